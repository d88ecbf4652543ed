"""The README's instructor section is executable: its shell commands run here verbatim.

Every command of the ```bash blocks between "## Instructors" and the next "## " heading is run
with bash, as printed, in a fresh directory holding a generated ``roster.csv``, with ``HOME`` set
to a fresh directory whose ``Downloads/submissions.zip`` is an LMS export of a few submissions
(the README's own placeholder, ``~/Downloads/submissions.zip``). The few commands that need a
JupyterHub's exchange, a PostgreSQL server or root are listed in ``EXCLUDED`` with the reason;
each of them must still be in the README and, if it is a ``dlbook-tools`` command, must parse.
"""
from __future__ import annotations

import csv
import os
import re
import shlex
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from dlbook_tools import cli
from dlbook_tools import sandbox as sb

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT / "tests" / "corpus" / "05_perceptron" / "uploads"
STEM = "05_perceptron"

EXCLUDED = {
    ". scripts/install.sh":
        "installs system packages (as root) and the environment this very suite runs in",
    "dlbook-tools course collect course 05_perceptron --exchange":
        "needs nbgrader's exchange with students' submissions (a JupyterHub); the exchange path runs for real in "
        "test_course_kit.py::test_jupyterhub_recipe_exchange_and_postgres_gradebook",
    "apt-get install postgresql": "installs a system package",
    "sudo -u postgres createuser grader && sudo -u postgres createdb -O grader dlbook_gradebook":
        "administers the machine's PostgreSQL server",
    "dlbook-tools course init ~/course --roster roster.csv --course-id dlbook "
    "--db postgresql+psycopg://grader@localhost/dlbook_gradebook --exchange /srv/nbgrader/exchange 05_perceptron":
        "needs the PostgreSQL server set up by the excluded commands above and the hub's /srv exchange "
        "(test_course_kit.py runs the same recipe against a throwaway server)",
    "dlbook-tools course release ~/course 05_perceptron --exchange": "needs the /srv exchange of the large-class recipe",
    "dlbook-tools course collect ~/course 05_perceptron --exchange": "needs the /srv exchange of the large-class recipe",
    "dlbook-tools course autograde ~/course 05_perceptron --jobs 16": "grades the large-class recipe's course (PostgreSQL)",
    "dlbook-tools course feedback ~/course 05_perceptron && (cd ~/course && nbgrader release_feedback 05_perceptron)":
        "needs the large-class recipe's course and exchange",
}


def instructor_commands() -> list[str]:
    """The shell commands of the instructor section, continuation lines joined, comment lines dropped."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    start = text.index("## Instructors")
    end = text.find("\n## ", start + 1)
    section = text[start:end if end > 0 else len(text)]
    out = []
    for block in re.findall(r"```(?:bash|sh|shell)\n(.*?)```", section, re.S):
        for line in block.replace("\\\n", " ").splitlines():
            line = " ".join(line.split())
            if line and not line.startswith("#"):
                out.append(line)
    return out


def without_comment(cmd: str) -> str:
    return re.sub(r"\s+#\s.*$", "", cmd)


def test_every_excluded_command_is_still_in_the_readme():
    cmds = [without_comment(c) for c in instructor_commands()]
    assert [c for c in EXCLUDED if c not in cmds] == []
    assert len(cmds) - len(EXCLUDED) >= 6, cmds  # most of it does run


@pytest.mark.parametrize("cmd", [c for c in instructor_commands() if c.startswith("dlbook-tools ")])
def test_every_dlbook_tools_command_parses(cmd):
    """Options and positionals in the README's order (argparse once bound the stems right after DIR: exit 2)."""
    argv = shlex.split(without_comment(cmd).split("&&")[0])[1:]
    args = cli.build_parser().parse_args(argv)
    assert args.cmd == argv[0]
    if argv[:2] == ["course", "init"]:
        assert args.stems == [a for a in argv[3:] if re.fullmatch(r"\d\d_\w+", a)], args


ROSTER = [("u01", "Ada", "Lovelace", "ada@uni.example", "501"), ("u02", "Alan", "Turing", "alan@uni.example", "502"),
          ("u03", "Grace", "Hopper", "grace@uni.example", "503"), ("u04", "Edsger", "Dijkstra", "edsger@uni.example", "504")]
SUBMISSIONS = {  # Moodle and Canvas names; u04 hands in nothing
    "Ada Lovelace_501_assignsubmission_file_/05_perceptron.ipynb":
        CORPUS / "Minjun Kim_1001_assignsubmission_file_" / f"{STEM}.ipynb",                      # correct: 13
    "u02_502_9002_05_perceptron.ipynb": CORPUS / f"s02_20002_9002_{STEM}.ipynb",                   # untouched: 0
    "Grace Hopper_503_assignsubmission_file_/Copy of 05_perceptron.ipynb":
        CORPUS / "김서연_1003_assignsubmission_file_" / f"Copy of {STEM}.ipynb",                    # xor wrong: 11
}


def test_the_semester_runs_verbatim(tmp_path):
    reason = sb.unavailable()
    if reason:
        if os.environ.get("DLBOOK_REQUIRE_SANDBOX") == "1":
            pytest.fail(f"the grading sandbox cannot run here: {reason}")
        pytest.skip(f"the grading sandbox cannot run here: {reason}")
    home, work = tmp_path / "home", tmp_path / "work"
    (home / "Downloads").mkdir(parents=True)
    work.mkdir()
    with open(work / "roster.csv", "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["id", "first_name", "last_name", "email", "lms_user_id"])
        w.writerows(ROSTER)
    with zipfile.ZipFile(home / "Downloads" / "submissions.zip", "w", zipfile.ZIP_DEFLATED) as zf:
        for name, src in SUBMISSIONS.items():
            zf.writestr(zipfile.ZipInfo(name, date_time=(2026, 3, 2, 9, 0, 0)), src.read_bytes())
    env = {**os.environ, "HOME": str(home), "PATH": os.pathsep.join([str(Path(sys.executable).parent), os.environ["PATH"]])}
    env.pop("VIRTUAL_ENV", None)
    ran = []
    for cmd in instructor_commands():
        if without_comment(cmd) in EXCLUDED:
            continue
        r = subprocess.run(["bash", "-c", cmd], cwd=work, env=env, capture_output=True, text=True, timeout=1200)
        assert r.returncode == 0, f"README command failed ({r.returncode}): {cmd}\n{r.stdout[-3000:]}\n{r.stderr[-3000:]}"
        ran.append((without_comment(cmd), r.stdout))
    names = [shlex.split(c)[2] for c, _ in ran if c.startswith("dlbook-tools course ")]
    for step in ("init", "release", "collect", "autograde", "report", "feedback", "export"):
        assert step in names, (step, names)
    report = next(out for c, out in ran if c.startswith("dlbook-tools course report"))
    for sid, status in (("u01", "graded"), ("u02", "graded"), ("u03", "graded"), ("u04", "missing")):
        assert re.search(rf"^{sid}\s+{status}\s", report, re.M), report
    with open(work / "course" / "grades.csv", encoding="utf-8-sig") as fh:
        grades = {r["student_id"]: r for r in csv.DictReader(fh) if r["assignment"] == STEM}
    assert {sid: grades[sid]["score"] for sid in ("u01", "u02", "u03", "u04")} == {"u01": "13", "u02": "0", "u03": "11", "u04": ""}
    assert (work / "course" / "feedback" / "u01" / STEM / f"{STEM}.html").exists()
    assert (work / "course" / "release" / "06_mlp" / "06_mlp.ipynb").exists()  # both exercises of `init`
