"""An nbgrader course made from this book: source/ from solutions/, release/ generated,
and helpers to autograde submissions and read the scores back."""
from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from . import notebooks
from .config import ROOT
from .grading import nbgrader_config


def nbgrader(course: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    """Run ``nbgrader ARGS`` in the course directory."""
    cmd = [sys.executable, "-m", "nbgrader", *args, f"--CourseDirectory.root={course}"]
    result = subprocess.run(cmd, cwd=course, capture_output=True, text=True)
    if "Exception while loading config file" in result.stderr:  # nbgrader only logs this and carries on
        raise RuntimeError(f"{course / 'nbgrader_config.py'} failed to load:\n{result.stderr}")
    if check and result.returncode:
        raise RuntimeError(f"{' '.join(args)} failed ({result.returncode}):\n{result.stdout}\n{result.stderr}")
    return result


def exercise_stems(root: Path = ROOT) -> list[str]:
    return sorted(p.stem for p in (root / "solutions").glob("*.ipynb"))


def init_course(course: Path, stems: list[str] | None = None, *, students: list[str] = (), root: Path = ROOT) -> Path:
    """Create (or refresh) an nbgrader course in ``course``: config, source/, release/, students."""
    course = Path(course).resolve()
    course.mkdir(parents=True, exist_ok=True)
    (course / "nbgrader_config.py").write_text(nbgrader_config(str(course)), encoding="utf-8")
    for stem in stems or exercise_stems(root):
        src = root / "solutions" / f"{stem}.ipynb"
        if not src.exists():
            raise FileNotFoundError(f"no exercise {stem!r}: expected {src}; choose from {exercise_stems(root)}")
        dest = course / "source" / stem
        dest.mkdir(parents=True, exist_ok=True)
        shutil.copy2(src, dest / f"{stem}.ipynb")
        nbgrader(course, "generate_assignment", stem, "--force")
    for student in students:
        nbgrader(course, "db", "student", "add", student)
    return course


def generated_exercise(stem: str, root: Path = ROOT) -> str:
    """The student version of ``solutions/<stem>.ipynb``, as nbgrader generates it."""
    with tempfile.TemporaryDirectory() as tmp:
        course = init_course(Path(tmp), [stem], root=root)
        nb = notebooks.read(course / "release" / stem / f"{stem}.ipynb")
        return notebooks.nbformat.writes(nb) + "\n"


def generate_exercises(stems: list[str] | None = None, *, check: bool = False, root: Path = ROOT) -> list[str]:
    """Write ``exercises/<stem>.ipynb`` for each solution; with ``check``, only report stale ones."""
    stale = []
    for stem in stems or exercise_stems(root):
        text = generated_exercise(stem, root)
        target = root / "exercises" / f"{stem}.ipynb"
        if not target.exists() or target.read_text(encoding="utf-8") != text:
            stale.append(stem)
            if not check:
                target.parent.mkdir(exist_ok=True)
                target.write_text(text, encoding="utf-8")
    return stale


def submit(course: Path, stem: str, student: str, notebook: Path) -> None:
    """Place a student's notebook where ``nbgrader autograde`` looks for it."""
    dest = Path(course) / "submitted" / student / stem
    dest.mkdir(parents=True, exist_ok=True)
    shutil.copy2(notebook, dest / f"{stem}.ipynb")


def autograde(course: Path, stem: str, student: str | None = None) -> subprocess.CompletedProcess:
    args = ["autograde", stem, "--force"] + ([f"--student={student}"] if student else [])
    return nbgrader(Path(course), *args)


def scores(course: Path, stem: str) -> dict[str, tuple[float, float]]:
    """{student: (score, max_score)} for one assignment, read from the gradebook."""
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{Path(course) / 'gradebook.db'}") as gb:
        result = {}
        for sub in gb.assignment_submissions(stem):
            result[sub.student_id] = (sub.score, sub.max_score)
        return result
