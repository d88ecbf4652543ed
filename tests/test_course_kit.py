"""The instructor's kit: course, collect, sandboxed parallel autograde, feedback, export, report.

The corpus under ``tests/corpus/05_perceptron/`` holds submissions students really hand in
(runaway code, broken and edited notebooks, Colab copies, snooping code); ``expected.yml`` says
what each must score and what the report must say. The sandbox is also tested directly: what it
claims to block is tried and must fail.
"""
from __future__ import annotations

import copy
import csv
import datetime as dt
import glob
import hashlib
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

import nbformat
import pytest
import yaml

from dlbook_tools import course, grading, intake, notebooks
from dlbook_tools import sandbox as sb

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT / "tests" / "corpus" / "05_perceptron"
EXPECTED = yaml.safe_load((CORPUS / "expected.yml").read_text(encoding="utf-8"))
STEM = EXPECTED["assignment"]
LIMITS = {"cell_timeout": EXPECTED["limits"]["cell_timeout"], "notebook_timeout": EXPECTED["limits"]["notebook_timeout"],
          "memory": sb.parse_size(EXPECTED["limits"]["memory"])}


def released():
    return notebooks.read(ROOT / "exercises" / f"{STEM}.ipynb")


def corpus_nb(name):
    return intake.read_notebook(CORPUS / "uploads" / name)


@pytest.fixture(scope="session")
def sandbox_works():
    reason = sb.unavailable()
    if reason:
        if os.environ.get("DLBOOK_REQUIRE_SANDBOX") == "1":  # CI: a missing sandbox is a failure, not a skip
            pytest.fail(f"the grading sandbox cannot run here: {reason}")
        pytest.skip(f"the grading sandbox cannot run here: {reason}")


# ------------------------------------------------------------------ names, roster, broken files (no kernel)
@pytest.mark.parametrize("name", [f"{STEM}.ipynb", f"Copy of {STEM}.ipynb", f"{STEM} (1).ipynb", f"Copy of {STEM} (2).ipynb",
                                  f"{STEM}.ipynb의 사본", f"{STEM}-1.ipynb", f"alice_123_456_{STEM}.ipynb"])
def test_renamed_copies_still_name_the_exercise(name):
    assert intake.names_stem(name, STEM)
    assert not intake.names_stem("06_mlp.ipynb", STEM)


def test_clean_name_removes_colab_and_browser_renamings():
    assert intake.clean_name(f"Copy of {STEM} (1).ipynb") == STEM
    assert intake.clean_name(f"{STEM}.ipynb의 사본.ipynb") == STEM


def test_uploads_are_matched_to_the_roster():
    people = intake.read_roster(CORPUS / "roster.csv")
    m = lambda src, **kw: intake.match_student(src, people, **kw)[0]  # noqa: E731
    assert m(f"Minjun Kim_1001_assignsubmission_file_/{STEM}.ipynb") == "s01"   # Moodle: full name folder
    assert m(f"김서연_1003_assignsubmission_file_/Copy of {STEM}.ipynb") == "s03"  # Korean name
    assert m(f"s02_20002_9002_{STEM}.ipynb") == "s02"                            # Canvas: login, LMS id
    assert m(f"s17@school.example - Copy of {STEM}.ipynb") == "s17"              # e-mail
    assert m("jiho.jung/work.ipynb") == "s06"                                    # e-mail local part
    assert m("mystery_upload.ipynb") is None
    both = people + [dict(people[0], id="s01b", email="other@school.example", lms_user_id="9")]
    sid, why = intake.match_student(f"Minjun Kim_1001_assignsubmission_file_/{STEM}.ipynb", both)
    assert sid is None and "ambiguous" in why
    assert m("sub-77-s13.ipynb", pattern=r"sub-\d+-(?P<student>\w+)\.ipynb") == "s13"


def test_roster_needs_an_id_column(tmp_path):
    (tmp_path / "r.csv").write_text("name,email\nA,a@x\n", encoding="utf-8")
    with pytest.raises(ValueError, match="no student id column"):
        intake.read_roster(tmp_path / "r.csv")
    (tmp_path / "r.csv").write_text("학번,이름,성\n2024001,민준,김\n", encoding="utf-8")
    assert intake.read_roster(tmp_path / "r.csv")[0]["id"] == "2024001"


@pytest.mark.parametrize("content, kind", [(b"", "empty"), (b"  \n", "empty"), (b'{"cells": [', "invalid-json"),
                                           (b'{"a": 1}', "not-a-notebook"), (b"\xff\xfe\x00garbage", "not-utf8")])
def test_broken_files_are_refused_with_a_reason(tmp_path, content, kind):
    (tmp_path / "x.ipynb").write_bytes(content)
    with pytest.raises(intake.Refused) as err:
        intake.read_notebook(tmp_path / "x.ipynb")
    assert err.value.kind == kind and err.value.ko and err.value.en


# ------------------------------------------------------------------ repairs (no kernel)
def repaired(name):
    nb = corpus_nb(name)
    notes = intake.normalize(nb) + intake.repair(nb, released())
    return nb, {n["kind"] for n in notes}


def ids(nb):
    return [c.metadata.get("nbgrader", {}).get("grade_id") for c in nb.cells]


def test_deleted_test_cells_are_re_added_after_their_answers():
    nb, kinds = repaired(f"s12_{STEM}.ipynb")
    assert "readded" in kinds
    order = ids(nb)
    assert order.index("test_nand") == order.index("nand") + 1 and order.index("test_xor") == order.index("xor") + 1


def test_flipped_test_cells_become_code_again():
    nb, kinds = repaired(f"s14_{STEM}.ipynb")
    assert "type-restored" in kinds
    assert all(c.cell_type == "code" for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade"))


def test_duplicated_ids_are_renumbered_and_only_one_copy_is_graded():
    nb, kinds = repaired(f"s16_{STEM}.ipynb")
    assert {"duplicate-ids", "duplicate-grade-id"} <= kinds
    assert len({c["id"] for c in nb.cells}) == len(nb.cells)
    assert ids(nb).count("test_perceptron") == 1 and ids(nb).count("leaky") == 1
    nbformat.validate(nb)


def test_metadata_stripped_by_colab_is_restored_from_the_release():
    nb, kinds = repaired(f"s17@school.example - Copy of {STEM}.ipynb")
    assert "metadata-restored" in kinds
    assert [i for i in ids(nb) if i] == [i for i in ids(released()) if i]


def test_a_notebook_of_something_else_is_refused_not_zeroed():
    nb = corpus_nb("s18/Untitled.ipynb")
    intake.normalize(nb)
    with pytest.raises(intake.Refused, match="none of the notebook's cells matches"):
        intake.repair(nb, released())


def test_hidden_tests_are_scrubbed_from_source_and_tracebacks():
    solution = notebooks.read(ROOT / "solutions" / f"{STEM}.ipynb")
    secret = grading.hidden_lines("\n".join(c.source for c in solution.cells))
    assert secret
    nb = copy.deepcopy(solution)
    cell = next(c for c in nb.cells if "BEGIN HIDDEN TESTS" in c.source)
    cell.outputs = [nbformat.v4.new_output("error", ename="ExerciseFailure", evalue="x",
                                           traceback=[f"\x1b[0;32m----> 3\x1b[0m {secret[0]}", "ExerciseFailure: x"])]
    grading.scrub_notebook(nb)
    text = json.dumps(nb)
    assert not any(s in text for s in secret)
    assert grading.HIDDEN_NOTE in cell.source and "ExerciseFailure: x" in cell.outputs[0].traceback


def test_sandbox_masks_a_hidden_path_under_a_visible_one(tmp_path):
    hidden = os.path.join(sys.prefix, "course-under-the-venv")
    args = sb.Sandbox(tmp_path, hide=(hidden,)).bwrap_args()
    assert ["--tmpfs", os.path.realpath(hidden)] == args[args.index(os.path.realpath(hidden)) - 1:][:2]
    assert "--unshare-all" in args and "--die-with-parent" in args and "--clearenv" in args


# ------------------------------------------------------------------ the sandbox, tried directly
PROBE = r'''
import json, os, socket, sys
out = {}
def attempt(name, fn):
    try:
        fn()
        out[name] = "ALLOWED"
    except BaseException as e:
        out[name] = type(e).__name__
for key, path in json.loads(sys.argv[1]).items():
    attempt(key, lambda p=path: open(p, "rb").read(1))
attempt("list_course", lambda: os.listdir(json.loads(sys.argv[2])))
attempt("connect_host", lambda: socket.create_connection(("127.0.0.1", int(sys.argv[3])), timeout=3).close())
attempt("connect_internet", lambda: socket.create_connection(("1.1.1.1", 53), timeout=3).close())
attempt("write_usr", lambda: open("/usr/dlbook-probe", "w"))
attempt("write_venv", lambda: open(os.path.join(sys.prefix, "dlbook-probe"), "w"))
attempt("write_ipc", lambda: open(os.path.join(sys.argv[5], "fill"), "w"))  # the kernel's sockets' directory
attempt("memory_3x", lambda: bytearray(3 * int(sys.argv[4])))
def fill():
    with open("/tmp/fill", "wb") as f:
        for _ in range(64):
            f.write(b"\0" * (8 << 20))
attempt("fill_tmp", fill)
attempt("import_dlbook", lambda: __import__("dlbook.check"))
out["cwd_files"] = sorted(os.listdir("."))
out["env_home"] = os.environ.get("HOME")
out["uid"] = os.getuid()
print(json.dumps(out))
'''


def test_the_sandbox_blocks_what_it_claims(sandbox_works, tmp_path):
    c = tmp_path / "course"
    for rel in ("gradebook.db", "source/05_perceptron/05_perceptron.ipynb", "submitted/alice/05_perceptron/05_perceptron.ipynb"):
        (c / rel).parent.mkdir(parents=True, exist_ok=True)
        (c / rel).write_text("SECRET")
    other = tmp_path / "other-sandbox"
    other.mkdir()
    (other / "answers.py").write_text("SECRET")
    files = tmp_path / "release"
    files.mkdir()
    (files / "data.csv").write_text("x\n1\n")
    targets = {"gradebook": str(c / "gradebook.db"), "source": str(c / "source/05_perceptron/05_perceptron.ipynb"),
               "other_student": str(c / "submitted/alice/05_perceptron/05_perceptron.ipynb"),
               "other_sandbox": str(other / "answers.py"), "solutions": str(ROOT / "solutions" / f"{STEM}.ipynb"),
               "root_home": "/root/.bash_history", "shadow": "/etc/shadow"}
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    limits = sb.Limits(memory=sb.parse_size("1G"), disk=sb.parse_size("128M"))
    box = sb.Sandbox(tmp_path / "scratch", limits, files=files, hide=(str(c),))
    try:
        r = box.run([sys.executable, "-c", PROBE, json.dumps(targets), str(c), str(server.getsockname()[1]), str(limits.memory),
                     str(box.ipc)],
                    timeout=120)
    finally:
        server.close()
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    for key in list(targets) + ["list_course", "connect_host", "connect_internet", "write_usr", "write_venv",
                                "write_ipc", "memory_3x", "fill_tmp"]:
        assert out[key] != "ALLOWED", (key, out)
    assert out["memory_3x"] == "MemoryError" and out["fill_tmp"] == "OSError"
    assert out["import_dlbook"] == "ALLOWED"      # the book's library is there
    assert out["cwd_files"] == ["data.csv"]       # only the released assignment's files
    assert out["env_home"] == sb.HOME and out["uid"] == 65534


def run_cells(sources, **limits):
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(s) for s in sources])
    from traitlets.config import Config

    cfg = Config()
    cfg.SandboxedExecute.timeout = limits.get("cell_timeout", 20)
    cfg.SandboxedExecute.notebook_timeout = limits.get("notebook_timeout", 60)
    cfg.SandboxedExecute.output_limit = limits.get("output", 10_000)
    cfg.SandboxedExecute.memory_limit = "1G"
    nb, _ = grading.SandboxedExecute(config=cfg).preprocess(nb, {"metadata": {"path": tempfile.gettempdir()}})
    return nb


def kinds(nb):
    return [[o.get("ename") or o.get("output_type") for o in c.outputs] for c in nb.cells]


def test_runaway_cells_are_stopped_and_the_notebook_comes_back(sandbox_works):
    nb = run_cells(["for i in range(100_000):\n    print('x' * 100)",
                    "while True:\n    pass",
                    "print('still alive')",
                    "import os\nos._exit(7)",
                    "print('never')"], cell_timeout=4)
    k = kinds(nb)
    assert "grader: output truncated" in nb.cells[0].outputs[0].text and len(nb.cells[0].outputs[0].text) < 20_000
    assert "CellTimeoutError" in k[1] and nb.cells[2].outputs[0].text == "still alive\n"
    assert k[3] == ["KernelDied"] and "status 7" in nb.cells[3].outputs[0].evalue
    assert k[4] == ["NotRun"]
    events = [e["kind"] for e in nb.metadata[grading.META]["events"]]
    assert events == ["output-truncated", "timeout", "kernel-died"]


def test_the_notebook_time_limit_holds(sandbox_works):
    t = time.monotonic()
    nb = run_cells(["import time\ntime.sleep(1.5)"] * 2 + ["import time\ntime.sleep(60)", "print('late')"],
                   cell_timeout=50, notebook_timeout=20)
    assert time.monotonic() - t < 50
    k = kinds(nb)
    assert k[:2] == [[], []] and "CellTimeoutError" in k[2] and k[3] == ["NotRun"]
    assert "notebook's time limit" in nb.cells[2].outputs[-1].evalue


def test_an_interrupt_ignoring_loop_is_killed(sandbox_works):
    nb = run_cells(["import time\nwhile True:\n    try:\n        time.sleep(1)\n    except BaseException:\n        pass",
                    "print('after')"], cell_timeout=3)
    assert kinds(nb) == [["CellTimeoutError"], ["NotRun"]]
    assert nb.metadata[grading.META]["events"][0]["kind"] == "timeout-unstoppable"


# ------------------------------------------------------------------ the corpus, graded for real
def lms_zip(path: Path) -> Path:
    """The corpus uploads as an LMS export: one zip, members dated as expected.yml says."""
    times = EXPECTED["uploaded"]
    with zipfile.ZipFile(path, "w") as zf:
        for p in sorted((CORPUS / "uploads").rglob("*")):
            if p.is_file():
                rel = p.relative_to(CORPUS / "uploads").as_posix()
                when = dt.datetime.fromisoformat(times.get(rel, times["default"]))
                zf.writestr(zipfile.ZipInfo(rel, date_time=when.timetuple()[:6]), p.read_bytes())
    return path


def tree_hash(folder: Path) -> dict:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.rglob("*")) if p.is_file()}


REGRADE = ["s01", "s08", "s13", "s16"]  # graded again one at a time: the results must not change


def outputs_of(c: Path, sid: str):
    nb = notebooks.read(c / "autograded" / sid / STEM / f"{STEM}.ipynb")
    return [(cell.source, cell.get("outputs")) for cell in nb.cells]


@pytest.fixture(scope="module")
def graded(sandbox_works, tmp_path_factory):
    where = tmp_path_factory.mktemp("kit")
    c = course.init_course(where / "course", [STEM], roster=CORPUS / "roster.csv", limits=LIMITS)
    collected = course.collect(c, STEM, lms_zip(where / "lms-export.zip"))
    for folder in sorted((CORPUS / "exchange").iterdir()):  # what nbgrader's exchange leaves in submitted/
        dest = c / "submitted" / folder.name / STEM
        dest.mkdir(parents=True)
        for f in folder.iterdir():
            shutil.copy2(f, dest / f.name)
    before = tree_hash(c / "submitted")
    t = time.monotonic()
    rep = course.autograde(c, STEM, jobs=2)
    seconds = time.monotonic() - t
    snapshot = {sid: outputs_of(c, sid) for sid in REGRADE}
    rows = {r["student"]: r for r in course.report(c, STEM)}
    return {"course": c, "collected": collected, "report": rep, "rows": rows, "before": before,
            "seconds": seconds, "snapshot": snapshot}


@pytest.mark.parametrize("sid", sorted(EXPECTED["students"]))
def test_corpus_case(graded, sid):
    want = EXPECTED["students"][sid]
    row = graded["rows"][sid]
    if want["score"] is None:
        assert row["status"] == want["status"], row
        assert row.get("score") is None
    else:
        assert row["status"] == "graded", row
        assert (row["score"], row["max_score"]) == (want["score"], EXPECTED["max_score"]), (want["case"], row["message"])
    assert want["message"] in row["message"], (want["case"], row["message"])
    assert row["message_ko"] or not row["message"]
    if want.get("output"):
        nb = notebooks.read(graded["course"] / "autograded" / sid / STEM / f"{STEM}.ipynb")
        text = json.dumps([c.get("outputs") for c in nb.cells], ensure_ascii=False)
        assert want["output"] in text


def test_every_upload_is_kept_and_nothing_submitted_is_touched(graded):
    c = graded["course"]
    man = json.loads((c / "uploads" / STEM / "manifest.json").read_text(encoding="utf-8"))
    n_uploads = sum(1 for p in (CORPUS / "uploads").rglob("*") if p.is_file())
    sources = {u["source"] for u in man["uploads"]}
    assert len([s for s in sources if not s.startswith("submitted/")]) == n_uploads
    for u in man["uploads"]:
        assert hashlib.sha256((c / u["stored"]).read_bytes()).hexdigest() == u["sha256"]
    s03 = sorted((u["mtime"], u["status"], u["name"]) for u in man["uploads"] if u["student"] == "s03")
    assert [x[1] for x in s03] == ["older", "chosen"] and s03[1][2] == f"Copy of {STEM}.ipynb"
    assert sorted(u["name"] for u in man["uploads"] if u["status"] == "unmatched") == sorted(EXPECTED["unmatched"])
    assert tree_hash(c / "submitted") == graded["before"]  # autograde read them; it changed nothing


def test_collecting_again_keeps_everything_and_changes_nothing_else(graded, tmp_path):
    c = graded["course"]
    before = tree_hash(c / "submitted")
    again = course.collect(c, STEM, lms_zip(tmp_path / "again.zip"))
    exchange_files = sum(1 for p in (CORPUS / "exchange").rglob("*") if p.is_file())
    assert again["uploads"] == graded["collected"]["uploads"] + exchange_files  # the exchange's files, archived
    after = tree_hash(c / "submitted")
    assert {k: v for k, v in after.items() if not k.startswith(("s23", "s24"))} == \
        {k: v for k, v in before.items() if not k.startswith(("s23", "s24"))}
    assert sorted(k for k in after if k.startswith(("s23", "s24"))) == [  # normalized: the notebook and its time
        f"s23/{STEM}/{STEM}.ipynb", f"s23/{STEM}/timestamp.txt", f"s24/{STEM}/{STEM}.ipynb", f"s24/{STEM}/timestamp.txt"]
    man = json.loads((c / "uploads" / STEM / "manifest.json").read_text(encoding="utf-8"))
    torch_py = [u for u in man["uploads"] if u["name"] == "torch.py"]
    assert torch_py and torch_py[0]["status"] == "ignored" and (c / torch_py[0]["stored"]).exists()


def test_report_names_every_student_and_every_stray_upload(graded, tmp_path):
    rows = graded["rows"]
    roster_ids = {r["id"] for r in intake.read_roster(CORPUS / "roster.csv")}
    assert roster_ids <= set(rows)
    assert any(r["status"] == "unmatched" and "mystery_upload.ipynb" in r["student"] for r in rows.values())
    for r in rows.values():
        assert r["status"] == "graded" or r["message"], r   # a score, or the reason there is none
    out = subprocess.run([sys.executable, "-m", "dlbook_tools", "course", "report", str(graded["course"]), STEM],
                         capture_output=True, text=True, check=True).stdout
    for sid in roster_ids:
        assert re.search(rf"^{sid}\s", out, re.M), sid


def test_parallel_grading_equals_sequential(graded):
    c = graded["course"]
    first = {sid: graded["rows"][sid] for sid in REGRADE}
    course.autograde(c, STEM, students=REGRADE, jobs=1)
    rows = {r["student"]: r for r in course.report(c, STEM)}
    for sid in REGRADE:
        assert (rows[sid]["score"], rows[sid]["message"]) == (first[sid]["score"], first[sid]["message"])
        assert outputs_of(c, sid) == graded["snapshot"][sid], sid


def test_feedback_is_bilingual_and_hides_the_hidden_tests(graded):
    c = graded["course"]
    files = course.feedback(c, STEM)
    graded_ids = {sid for sid, r in graded["rows"].items() if r["status"] == "graded"}
    withheld = {sid for sid, w in EXPECTED["students"].items() if w.get("feedback") == "withheld"}
    assert {f.parts[-3] for f in files} == graded_ids - withheld          # one bad file stops no one else
    assert {w["student"] for w in files.withheld} == withheld
    solution = notebooks.read(ROOT / "solutions" / f"{STEM}.ipynb")
    secrets = [" ".join(s.split()) for s in grading.hidden_lines("\n".join(x.source for x in solution.cells))]
    for f in files:
        text = course._visible_text(f.read_text(encoding="utf-8"))
        assert "채점 결과 · Grading result" in text and "**English**" not in text
        own = course._own_text(notebooks.read(c / "autograded" / f.parts[-3] / STEM / f"{STEM}.ipynb"))
        assert not [s for s in secrets if s in text and s not in own], f  # a student's own line is theirs to see
    s12 = course._visible_text((c / "feedback" / "s12" / STEM / f"{STEM}.html").read_text(encoding="utf-8"))
    assert "deleted cell(s) re-added" in s12 and "지워진 셀을 다시 넣었습니다" in s12


@pytest.fixture(scope="module")
def feedback_done(graded):
    files = course.feedback(graded["course"], STEM)
    return files, {r["student"]: r for r in course.report(graded["course"], STEM)}


@pytest.mark.parametrize("sid", sorted(s for s, w in EXPECTED["students"].items() if w.get("feedback")))
def test_corpus_feedback(graded, feedback_done, sid):
    want = EXPECTED["students"][sid]["feedback"]
    files, rows = feedback_done
    page = graded["course"] / "feedback" / sid / STEM / f"{STEM}.html"
    if want == "withheld":
        assert not page.exists() and sid in {w["student"] for w in files.withheld}
        assert "feedback withheld: the HTML shows a hidden test's line" in rows[sid]["message"], rows[sid]
        assert "피드백 보류" in rows[sid]["message_ko"]
    else:
        assert want in course._visible_text(page.read_text(encoding="utf-8")), (sid, want)


def test_nothing_the_kit_writes_runs_in_a_browser(graded, feedback_done):
    """Feedback pages carry their template's scripts only; autograded notebooks (which the formgrader
    renders) keep no script, event handler, widget state or unsafe output."""
    c = graded["course"]
    baseline = set(grading.active_content((c / "feedback" / "s01" / STEM / f"{STEM}.html").read_text(encoding="utf-8"))[1])
    for f in feedback_done[0]:
        found, scripts = grading.active_content(f.read_text(encoding="utf-8"))
        assert found == [] and set(scripts) <= baseline, (f, found, set(scripts) - baseline)
    for auto in sorted((c / "autograded").glob(f"*/{STEM}/{STEM}.ipynb")):
        nb = notebooks.read(auto)
        assert "widgets" not in nb.metadata, auto
        for cell in nb.cells:
            for out in cell.get("outputs", []):
                assert set(out.get("data", {})) <= grading.SAFE_MIMES - {"image/svg+xml"}, (auto, out)
                html = out.get("data", {}).get("text/html", "")
                assert grading.active_content(html) == ([], []), (auto, html)
            if cell.cell_type == "markdown" and not cell.metadata.get("nbgrader", {}).get("locked"):
                assert "<script" not in cell.source and "javascript:" not in cell.source, (auto, cell.source)
    s45 = notebooks.read(c / "autograded" / "s45" / STEM / f"{STEM}.ipynb")
    assert "PWNED-h1" in json.dumps(s45.cells, ensure_ascii=False)  # kept as inert text, not removed unseen


CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def test_no_terminal_escape_reaches_the_console_the_report_or_grades_csv(graded):
    c = graded["course"]
    for r in course.report(c, STEM):
        assert not CONTROL.search(r.get("message", "") + r.get("message_ko", "")), r
    out = subprocess.run([sys.executable, "-m", "dlbook_tools", "course", "report", str(c), STEM], capture_output=True,
                         text=True, check=True).stdout
    assert "perceptron raised RuntimeError: boom" in out and not CONTROL.search(out.replace("\n", "")), out
    with open(course.export(c), encoding="utf-8-sig") as fh:
        text = fh.read()
    assert "RuntimeError: boom" in text and not CONTROL.search(text.replace("\n", "").replace("\r", ""))


def test_report_analyses_items_and_lists_similar_submissions(graded):
    c = graded["course"]
    for lang, words in (("en", ["Item analysis", "test_perceptron", "Similar submissions"]), ("ko", ["문항 분석", "비슷한 제출물"])):
        out = subprocess.run([sys.executable, "-m", "dlbook_tools", "course", "report", str(c), STEM, "--lang", lang],
                             capture_output=True, text=True, check=True).stdout
        assert all(w in out for w in words), out
    data = json.loads((c / "reports" / f"{STEM}-analysis.json").read_text(encoding="utf-8"))
    graded_n = sum(r["status"] == "graded" for r in graded["rows"].values())
    assert data["students"] == graded_n and sum(h["count"] for h in data["histogram"]) == graded_n
    items = {i["id"]: i for i in data["items"]}
    assert set(items) == {"test_perceptron", "test_nand", "test_xor", "test_leaky", "test_sigmoid",
                          "test_q1", "test_q2", "test_q3"}
    assert any("perceptron raised RuntimeError: boom" in f["message"] for f in items["test_perceptron"]["failures"])
    for want in EXPECTED["similar"]:
        group = next(g for g in data["similarity"]["groups"] if set(want["students"]) <= set(g["students"]))
        assert group["students"] == want["students"] and want["identical"] in group["exact"], group
    assert (c / "reports" / f"{STEM}-analysis.png").read_bytes()[:4] == b"\x89PNG"
    page = (c / "reports" / f"{STEM}-analysis.html").read_text(encoding="utf-8")
    assert grading.active_content(page) == ([], [])


def test_export_has_a_row_with_score_or_reason_for_everyone(graded):
    path = course.export(graded["course"])
    rows = {r["student_id"]: r for r in csv.DictReader(open(path, encoding="utf-8-sig"))}
    for sid, want in EXPECTED["students"].items():
        if want["score"] is None:
            assert rows[sid]["score"] == "" and want["message"] in rows[sid]["reason"]
        else:
            assert float(rows[sid]["score"]) == want["score"]


def test_the_corpus_grades_in_minutes(graded):
    timing = graded["report"]["timing"]
    assert timing["jobs"] == 2 and timing["sandbox"] is True
    print(f"corpus of {len(EXPECTED['students'])} students graded in {graded['seconds']:.0f} s: {timing}")


# ------------------------------------------------------------------ JupyterHub recipe: exchange (+ PostgreSQL)
def _start_postgres(tmp: Path):
    """A throwaway PostgreSQL on 127.0.0.1 (Debian's server binaries); (url, stop) or (None, reason)."""
    bins = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"))
    if not bins:
        return None, "Debian's postgresql server is not installed (scripts/install.sh installs it as root)"
    try:
        import psycopg
    except ImportError:
        return None, "the psycopg driver is not installed (pip install 'psycopg[binary]')"
    bindir = Path(bins[-1]).parent
    prefix = []
    if os.geteuid() == 0:  # PostgreSQL refuses to run as root: use its system account
        import pwd

        try:
            pw = pwd.getpwnam("postgres")
        except KeyError:
            return None, "running as root and there is no postgres system user"
        os.chown(tmp, pw.pw_uid, pw.pw_gid)
        prefix = ["setpriv", f"--reuid={pw.pw_uid}", f"--regid={pw.pw_gid}", "--clear-groups", "--"]
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    data = tmp / "data"
    env = {**os.environ, "LC_ALL": "C.UTF-8", "LANG": "C.UTF-8"}
    r = subprocess.run(prefix + [str(bindir / "initdb"), "-D", str(data), "-A", "trust", "-U", "postgres", "--no-sync"],
                       capture_output=True, text=True, env=env, cwd=tmp)
    if r.returncode:
        return None, f"initdb failed: {r.stderr.strip()[-300:]}"
    opts = f"-c listen_addresses=127.0.0.1 -p {port} -c unix_socket_directories={tmp} -c fsync=off"
    r = subprocess.run(prefix + [str(bindir / "pg_ctl"), "-D", str(data), "-o", opts, "-l", str(tmp / "log"), "-w", "start"],
                       capture_output=True, text=True, env=env, cwd=tmp)
    if r.returncode:
        return None, f"PostgreSQL did not start: {r.stderr.strip()[-300:]}"

    def stop():
        subprocess.run(prefix + [str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"],
                       capture_output=True, cwd=tmp)

    with psycopg.connect(f"postgresql://postgres@127.0.0.1:{port}/postgres", autocommit=True) as conn:
        conn.execute("CREATE DATABASE gradebook")
    return (f"postgresql+psycopg://postgres@127.0.0.1:{port}/gradebook", stop), None


@pytest.fixture(scope="module")
def postgres():
    tmp = Path(tempfile.mkdtemp(prefix="dlbook-pg-"))
    got, reason = _start_postgres(tmp)
    if got is None:
        yield None, reason
    else:
        url, stop = got
        try:
            yield url, None
        finally:
            stop()
    shutil.rmtree(tmp, ignore_errors=True)


AS_STUDENT = """import sys
import nbgrader.utils as u
name = sys.argv.pop(1)
u.get_osusername = lambda: name
from nbgrader.apps.nbgraderapp import main
sys.argv[0] = "nbgrader"
main()
"""


def test_jupyterhub_recipe_exchange_and_postgres_gradebook(sandbox_works, postgres, tmp_path):
    """Release through nbgrader's exchange, students fetch and submit, the kit collects and grades;
    the gradebook is PostgreSQL when a server can be started here (else SQLite; see the next test)."""
    url, _ = postgres
    exchange = tmp_path / "exchange"
    exchange.mkdir(mode=0o777)
    c = course.init_course(tmp_path / "course", [STEM], students=["s30", "s31"], db=url, exchange=str(exchange),
                           limits=LIMITS)
    course.release(c, [STEM], exchange=True)
    for sid, nb in (("s30", "s01"), ("s31", "s13")):  # a correct notebook; one with a test rewritten to pass
        home = tmp_path / sid
        home.mkdir()
        env = {**os.environ, "USER": sid, "LOGNAME": sid, "HOME": str(home)}
        # each student is their own OS user on a hub; here one OS user plays them all
        nbg = [sys.executable, "-c", AS_STUDENT, sid]
        opts = [f"--Exchange.root={exchange}"]
        r = subprocess.run(nbg + ["fetch_assignment", STEM, "--course=dlbook"] + opts, cwd=home, env=env,
                           capture_output=True, text=True)
        assert r.returncode == 0, r.stdout + r.stderr
        src = next((CORPUS / "uploads").glob(f"{nb}*")) if nb != "s01" else \
            CORPUS / "uploads" / "Minjun Kim_1001_assignsubmission_file_" / f"{STEM}.ipynb"
        shutil.copy(src, home / STEM / f"{STEM}.ipynb")
        r = subprocess.run(nbg + ["submit", STEM, "--course=dlbook"] + opts, cwd=home, env=env, capture_output=True, text=True)
        assert r.returncode == 0, r.stdout + r.stderr
    got = course.collect(c, STEM, exchange=True)
    assert got["students"] == ["s30", "s31"]
    course.autograde(c, STEM)
    rows = {r["student"]: r for r in course.report(c, STEM)}
    assert (rows["s30"]["status"], rows["s30"]["score"]) == ("graded", 13.0)
    assert (rows["s31"]["score"], rows["s31"]["status"]) == (11.0, "graded")
    assert "edited read-only cell(s) restored: test_perceptron" in rows["s31"]["message"]
    assert course.scores(c, STEM) == {"s30": (13.0, 13.0), "s31": (11.0, 13.0)}
    if url:
        import psycopg

        with psycopg.connect(url.replace("+psycopg", "")) as conn:
            assert conn.execute("SELECT count(*) FROM submitted_assignment").fetchone()[0] == 2


def test_postgresql_gradebook_was_used(postgres):
    url, reason = postgres
    if url is None:
        pytest.skip(f"PostgreSQL could not be started here, so the recipe ran on SQLite: {reason}")
    assert url.startswith("postgresql")


# ------------------------------------------------------------------ nbgrader's JupyterLab extensions
ANSI = re.compile(r"\x1b\[[0-9;]*m")


def jupyter(*args):
    r = subprocess.run([sys.executable, "-m", "jupyter", *args], capture_output=True, text=True)
    return ANSI.sub("", r.stdout + r.stderr)


def test_nbgrader_extensions_are_enabled_and_valid_for_this_jupyterlab():
    lab = jupyter("labextension", "list")
    line = next((ln for ln in lab.splitlines() if "@jupyter/nbgrader" in ln), None)
    assert line, lab
    assert "enabled" in line and "OK" in line and "disabled" not in line, line
    disabled = lab.split("Disabled extensions:")[1] if "Disabled extensions:" in lab else ""
    assert "@jupyter/nbgrader" not in disabled, disabled
    server = jupyter("server", "extension", "list")
    for ext in ("formgrader", "assignment_list", "validate_assignment", "course_list"):
        block = re.search(rf"nbgrader\.server_extensions\.{ext}\s+enabled.*?nbgrader\.server_extensions\.{ext}\s+OK",
                          server, re.S)
        assert block, (ext, server)


def test_python_installation_is_bound_after_the_private_tmpfs(tmp_path):
    """A virtual environment under /tmp (a CI checkout) must not be covered by the sandbox's /tmp."""
    args = sb.Sandbox(tmp_path).bwrap_args()
    tmpfs_tmp = next(i for i in range(len(args) - 1) if args[i] == "--tmpfs" and args[i + 1] == "/tmp")
    for root in sb._python_roots():
        binds = [i for i in range(len(args) - 2) if args[i:i + 3] == ["--ro-bind", root, root]]
        assert binds and binds[0] > tmpfs_tmp, root
