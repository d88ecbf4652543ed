"""nbgrader pieces the course uses (imported by the course's ``nbgrader_config.py``)."""
from __future__ import annotations

from nbgrader import utils
from nbgrader.preprocessors import NbGraderPreprocessor

# Shown in place of a solution: both languages, then the line nbgrader expects.
CODE_STUB = "# 여기에 코드를 작성하세요 · YOUR CODE HERE\nraise NotImplementedError()"
TEXT_STUB = "여기에 답을 쓰세요 · YOUR ANSWER HERE"


class StderrIsNotFailure(NbGraderPreprocessor):  # nbgrader's base: enabled by default
    """Keep warnings from zeroing a passing test.

    nbgrader scores a test cell 0 when it has *any* stderr output, so a harmless
    PyTorch ``UserWarning`` would cost a student the points of a test that passed.
    A test fails only by raising; this turns the stderr stream of a grade cell into
    stdout (the text stays visible in the feedback) before grades are saved.
    """

    def preprocess_cell(self, cell, resources, index):
        if cell.cell_type == "code" and utils.is_grade(cell) and not utils.is_solution(cell):
            for out in cell.get("outputs", []):
                if out.get("output_type") == "stream" and out.get("name") == "stderr":
                    out["name"] = "stdout"
        return cell, resources


def autograde_preprocessors() -> list:
    """nbgrader's autograde pipeline with ``StderrIsNotFailure`` before grades are saved."""
    from nbgrader.converters.autograde import Autograde
    from nbgrader.preprocessors import SaveAutoGrades

    steps = list(Autograde.class_traits()["autograde_preprocessors"].default())
    steps.insert(steps.index(SaveAutoGrades), StderrIsNotFailure)
    return steps


NBGRADER_CONFIG = '''\
# nbgrader configuration of a course made from "Deep Learning from Theory to Practice".
from dlbook_tools.grading import CODE_STUB, TEXT_STUB, autograde_preprocessors

c = get_config()  # noqa: F821
c.CourseDirectory.course_id = {course_id!r}
c.CourseDirectory.root = {root!r}
c.ClearSolutions.code_stub = {{"python": CODE_STUB}}
c.ClearSolutions.text_stub = TEXT_STUB
c.Autograde.autograde_preprocessors = autograde_preprocessors()
c.ExecutePreprocessor.timeout = 120
c.Execute.timeout = 120
'''


def nbgrader_config(root: str, course_id: str = "dlbook") -> str:
    return NBGRADER_CONFIG.format(root=str(root), course_id=course_id)
