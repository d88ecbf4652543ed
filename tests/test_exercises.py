"""The exercise pipeline: solutions/ → exercises/ by nbgrader, and autograding scores exactly."""
import copy
import re

import nbformat
import pytest
from nbgrader import utils as nbutils

from dlbook_tools import config, course, grading, notebooks

ROOT = config.ROOT
STEMS = course.exercise_stems()
MARKERS = re.compile(r"BEGIN SOLUTION|END SOLUTION|BEGIN HIDDEN TESTS|END HIDDEN TESTS")


def test_every_solution_has_a_generated_exercise_and_a_chapter():
    assert STEMS, "no exercises found under solutions/"
    for stem in STEMS:
        assert (ROOT / "exercises" / f"{stem}.ipynb").exists()
        assert (ROOT / "chapters" / config.default_edition().code / f"{stem}.ipynb").exists()


def test_regenerating_reproduces_the_committed_exercises():
    assert course.generate_exercises(check=True) == [], "run `dlbook-tools exercises` and commit"


@pytest.mark.parametrize("stem", STEMS)
def test_no_solution_or_hidden_test_reaches_students(stem):
    text = (ROOT / "exercises" / f"{stem}.ipynb").read_text(encoding="utf-8")
    assert not MARKERS.search(text)
    solution = notebooks.read(ROOT / "solutions" / f"{stem}.ipynb")
    hidden = [c for c in solution.cells if "BEGIN HIDDEN TESTS" in c.source]
    assert hidden, f"{stem} has no hidden tests"
    for cell in hidden:
        secret = cell.source.split("### BEGIN HIDDEN TESTS")[1].split("### END HIDDEN TESTS")[0].strip().splitlines()[0]
        assert secret not in text


@pytest.mark.parametrize("stem", STEMS)
def test_every_task_message_is_bilingual(stem):
    solution = notebooks.read(ROOT / "solutions" / f"{stem}.ipynb")
    for cell in solution.cells:
        if cell.cell_type == "markdown" and cell.metadata.get("nbgrader", {}).get("grade_id", "").startswith("task"):
            assert "**한국어**" in cell.source and "**English**" in cell.source, cell.source[:80]


def test_stderr_alone_no_longer_zeroes_a_test_cell():
    cell = nbformat.v4.new_code_cell("check()")
    cell.metadata["nbgrader"] = {"grade": True, "solution": False, "locked": True, "points": 2, "grade_id": "t", "schema_version": 3}
    cell.outputs = [nbformat.v4.new_output("stream", name="stderr", text="UserWarning: harmless\n")]
    assert nbutils.determine_grade(cell)[0] == 0  # nbgrader's own rule, which the course config fixes
    fixed, _ = grading.StderrIsNotFailure().preprocess_cell(copy.deepcopy(cell), {}, 0)
    assert nbutils.determine_grade(fixed)[0] == 2
    failed = copy.deepcopy(cell)
    failed.outputs.append(nbformat.v4.new_output("error", ename="AssertionError", evalue="x", traceback=[]))
    fixed, _ = grading.StderrIsNotFailure().preprocess_cell(failed, {}, 0)
    assert nbutils.determine_grade(fixed)[0] == 0


# ------------------------------------------------------------------ autograding for real
def solved(stem, replace=None):
    """The released exercise with each solution cell filled in from solutions/."""
    exercise = notebooks.read(ROOT / "exercises" / f"{stem}.ipynb")
    answers = {c.metadata["nbgrader"]["grade_id"]: c.source for c in notebooks.read(ROOT / "solutions" / f"{stem}.ipynb").cells
               if c.metadata.get("nbgrader", {}).get("solution")}
    for cell in exercise.cells:
        gid = cell.metadata.get("nbgrader", {}).get("grade_id")
        if gid in answers:
            cell.source = "\n".join(l for l in answers[gid].splitlines() if "### BEGIN SOLUTION" not in l and "### END SOLUTION" not in l)
            for old, new in (replace or {}).get(gid, []):
                assert old in cell.source, (gid, old)
                cell.source = cell.source.replace(old, new)
    return exercise


@pytest.fixture(scope="module", params=["05_perceptron"])  # the stem in the test ids: `-k 05_perceptron`
def graded(request, tmp_path_factory):
    stem = request.param
    where = tmp_path_factory.mktemp("course")
    submissions = {
        "full": solved(stem),
        "untouched": notebooks.read(ROOT / "exercises" / f"{stem}.ipynb"),
        # xor answered with OR: exactly the 2 points of task 3 are lost
        "partial": solved(stem, {"xor": [("return perceptron(torch.stack([nand, or_], dim=1), torch.tensor([0.5, 0.5]), 0.7)", "return or_")]}),
        # copy-constructing a tensor makes PyTorch print a UserWarning on stderr inside the test cells
        "warns": solved(stem, {"perceptron": [("return (x @ w - theta > 0).float()", "x = torch.tensor(x)\n    return (x @ w - theta > 0).float()")]}),
    }
    c = course.init_course(where, [stem], students=list(submissions))
    for student, nb in submissions.items():
        path = where / f"{student}.ipynb"
        notebooks.write(nb, path)
        course.submit(c, stem, student, path)
    course.autograde(c, stem)
    return c, stem, course.scores(c, stem)


def test_solution_gets_full_marks(graded):
    _, _, scores = graded
    assert scores["full"] == (13.0, 13.0)


def test_untouched_exercise_gets_zero(graded):
    assert graded[2]["untouched"] == (0.0, 13.0)


def test_partly_wrong_submission_gets_exactly_the_partial_score(graded):
    assert graded[2]["partial"] == (11.0, 13.0)


def test_pytorch_warning_on_stderr_does_not_cost_points(graded):
    c, stem, scores = graded
    assert scores["warns"] == (13.0, 13.0)
    autograded = notebooks.read(c / "autograded" / "warns" / stem / f"{stem}.ipynb")
    text = "".join(o.get("text", "") for cell in autograded.cells for o in cell.get("outputs", []))
    assert "UserWarning" in text  # the warning really was printed, and stays visible
