"""The instructor's kit, piece by piece and without grading a class: what reaches a person is clean
(no terminal escape, no hidden test, nothing that runs in a browser), what was done to a submission
is said, and the report's item analysis and similarity flags are right on synthetic results.

The same defects are cases of the corpus too (tests/corpus/05_perceptron, s40–s50), graded for real
by tests/test_course_kit.py.
"""
from __future__ import annotations

import copy
import json
import os
import re
import shutil
import sys
import tempfile
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output, new_raw_cell

from dlbook_tools import course, grading, intake, notebooks, review
from dlbook_tools import sandbox as sb

ROOT = Path(__file__).resolve().parents[1]
STEM = "05_perceptron"
SOLUTION = notebooks.read(ROOT / "solutions" / f"{STEM}.ipynb")
SECRETS = grading.secret_lines(c.source for c in SOLUTION.cells)
BAD = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def released():
    return notebooks.read(ROOT / "exercises" / f"{STEM}.ipynb")


def gid_cell(nb, gid):
    return next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == gid)


# ------------------------------------------------------------------ terminal escapes (item 9)
NASTY = ("boom\x1b[2J\x1b[H\x1b]52;c;Y3VybCBldmlsIHwgc2g=\x07 then\x1b]0;title\x1b\\ and\x9b31m red\x1bP1$r\x1b\\"
         "\u202etxt.exe\u202c\x00\x08 ok\r\n두 번째 줄\tend")


def test_safe_text_removes_terminal_escapes_and_controls():
    out = grading.safe_text(NASTY)
    assert not BAD.search(out) and "\x1b" not in out
    assert "52;" not in out and "Y3Vyb" not in out and "title" not in out and "31m" not in out
    assert out.startswith("boom then and red") and "txt.exe" in out and "두 번째 줄\tend" in out and "ok\n" in out
    one = grading.safe_text(NASTY, oneline=True)
    assert "\n" not in one and "\t" not in one and "두 번째 줄 end" in one


def test_messages_and_console_carry_no_escape(capsys):
    row = {"student": "s44", "status": "graded", "score": 5, "max_score": 10, "notes": [], "events": [],
           "tests": [{"id": "test_perceptron", "score": 0, "max": 2, "error": "ExerciseFailure: " + NASTY}],
           "answer_errors": [{"id": "perceptron", "error": "RuntimeError: " + NASTY}],
           "reason": None}
    ko, en = course._message(row)
    assert not BAD.search(ko + en) and "boom then" in en
    row["message_ko"], row["message"] = ko, en
    table = course.format_report([row, {"student": "(unmatched) x\x1b[31m.ipynb", "status": "unmatched",
                                        "message": "upload\x1b]52;c;QQ==\x07", "message_ko": ""}])
    assert not BAD.search(table.replace("\n", ""))
    cell = {"outputs": [new_output("error", ename="RuntimeError", evalue=NASTY, traceback=[])]}
    assert not BAD.search(course._first_error(cell))
    stream = grading.SafeStream(sys.stdout)
    print("a\x1b[2Jb\x9b31mc", file=stream)
    assert capsys.readouterr().out == "abc\n"


# ------------------------------------------------------------------ scrubbing as the check reads (item 4)
def test_scrub_uses_the_whitespace_normalisation_of_the_check():
    secret = next(s for s in SECRETS if s.startswith("expect_close(call(perceptron, xr"))
    tabs = secret.replace(" ", "\t")
    split = secret.replace(", ", ",\n   ")
    ansi = secret.replace("call", "\x1b[0;31mcall\x1b[0m", 1)
    for shown in (tabs, split, ansi, "  " + secret.replace(" ", "  ")):
        text = f"before\n{shown}\nafter"
        out = grading.scrub_text(text, SECRETS)
        assert not [s for s in SECRETS if s in grading.squash(out)], (shown, out)
        assert out.startswith("before\n") and out.endswith("\nafter") and grading.HIDDEN in out
    assert grading.scrub_text("nothing secret\nhere", SECRETS) == "nothing secret\nhere"


def test_scrub_notebook_covers_html_outputs_and_a_line_split_over_two_streams():
    secret = SECRETS[0]
    half = len(secret) // 2
    nb = new_notebook(cells=[new_code_cell("x"), new_code_cell("y")])
    nb.cells[0].outputs = [new_output("display_data", data={"text/html": f"<p>{secret[:5]}<b></b>{secret[5:]}</p>",
                                                           "text/plain": "x"})]
    nb.cells[1].outputs = [new_output("stream", name="stdout", text=secret[:half]),
                           new_output("stream", name="stderr", text=secret[half:])]
    grading.scrub_notebook(nb, SECRETS)
    text = json.dumps(nb, ensure_ascii=False)
    assert secret[:half] not in text and secret[half:] not in text and grading.HIDDEN in text


def _feedback_course(tmp: Path) -> Path:
    """A course directory with what `feedback` checks: source/, autograded/, feedback/ and a report."""
    c = tmp / "course"
    (c / "source" / STEM).mkdir(parents=True)
    shutil.copy(ROOT / "solutions" / f"{STEM}.ipynb", c / "source" / STEM / f"{STEM}.ipynb")
    own = {"s40": "", "s41": "import torch.nn.functional as F\n", "s42": "", "s43": ""}
    secret = SECRETS[0]
    pages = {"s40": "<p>all fine</p>",
             "s41": "<pre>import torch.nn.functional as F</pre>",          # their own line, also a hidden one
             "s42": f"<pre>{secret.replace('e', '&#101;')}</pre>",           # a leak the scrubber missed
             "s43": "<p>fine too</p>"}                                     # checked after the leak all the same
    for sid, page in pages.items():
        nb = released()
        gid_cell(nb, "leaky").source = own[sid] + gid_cell(nb, "leaky").source
        (c / "autograded" / sid / STEM).mkdir(parents=True)
        nbformat.write(nb, str(c / "autograded" / sid / STEM / f"{STEM}.ipynb"))
        (c / "feedback" / sid / STEM).mkdir(parents=True)
        (c / "feedback" / sid / STEM / f"{STEM}.html").write_text(f"<html><body>{page}</body></html>", encoding="utf-8")
    (c / "reports").mkdir()
    rows = [{"student": sid, "status": "graded", "score": 10, "max_score": 10, "notes": [], "events": []} for sid in pages]
    (c / "reports" / f"{STEM}.json").write_text(json.dumps({"assignment": STEM, "students": rows}), encoding="utf-8")
    return c


def test_a_failed_check_withholds_that_file_only_and_reports_it(tmp_path):
    c = _feedback_course(tmp_path)
    said = []
    files = course.check_feedback(c, STEM, log=said.append)
    assert [f.parts[-3] for f in files] == ["s40", "s41", "s43"]           # the innocent s41 keeps theirs
    assert [w["student"] for w in files.withheld] == ["s42"] and "s42" in said[0]
    assert not (c / "feedback" / "s42" / STEM / f"{STEM}.html").exists()
    assert Path(files.withheld[0]["file"]).is_file()                       # kept for the instructor
    rows = {r["student"]: r for r in json.loads((c / "reports" / f"{STEM}.json").read_text())["students"]}
    assert rows["s42"]["feedback"]["status"] == "withheld" and "feedback withheld" in rows["s42"]["message"]
    assert "피드백 보류" in rows["s42"]["message_ko"] and rows["s40"]["feedback"]["status"] == "written"


# ------------------------------------------------------------------ active content (item 10)
def hostile(missing: bool = True) -> nbformat.NotebookNode:
    c = new_code_cell("x")
    c.outputs = [
        new_output("display_data", data={"text/html": "<script>alert(1)</script><img src=x onerror=alert(2)><b>ok</b>",
                                         "text/plain": "p"}),
        new_output("display_data", data={"application/javascript": "alert(3)"}),
        new_output("display_data", data={"text/javascript": "alert(4)"}),
        new_output("display_data", data={"image/svg+xml": "<svg xmlns='http://www.w3.org/2000/svg' onload='alert(5)'>"
                                                          "<script>alert(6)</script></svg>"}),
        new_output("display_data", data={"image/png": "iVBORw0KGgo="}, metadata={"image/png": {"width": "1 onerror=alert(7)"}}),
        new_output("display_data", data={"image/png": "\" onerror=\"alert(8)"}),
        new_output("display_data", data={"text/markdown": "<img src=x onerror=alert(9)> [a](javascript:alert(10))"}),
        new_output("display_data", data={"application/vnd.jupyter.widget-view+json": {"model_id": "m", "version_major": 2,
                                                                                     "version_minor": 0}}),
        new_output("display_data", data={"text/html": "<iframe srcdoc='<script>alert(11)</script>'></iframe>"
                                                      "<a href='javascript:alert(12)'>x</a>"}, metadata={"isolated": True}),
    ]
    md = new_markdown_cell("notes <script>alert(13)</script> <img src=x onerror=alert(14)> [l](javascript:alert(15))")
    raw = new_raw_cell("<script>alert(16)</script>")
    raw.metadata["raw_mimetype"] = "text/html"
    att = new_markdown_cell("![a](attachment:a.png)" + (" ![b](attachment:missing.png)" if missing else ""))
    att["attachments"] = {"a.png": {"image/png": "\" onerror=\"alert(17)"}}
    tagged = new_code_cell("y")
    tagged.metadata["tags"] = ["x\" onmouseover=\"alert(18)"]
    nb = new_notebook(cells=[md, c, raw, att, tagged])
    nb.metadata["widgets"] = {"application/vnd.jupyter.widget-state+json": {
        "state": {"m": {"model_name": "HTMLModel", "model_module": "@jupyter-widgets/controls",
                        "model_module_version": "2.0.0", "state": {"value": "<img src=x onerror=alert(19)>"}}},
        "version_major": 2, "version_minor": 0}}
    nb.metadata["language_info"] = {"name": "python\"><script>alert(20)</script>", "pygments_lexer": "ipython3"}
    return nb


def render(nb) -> str:
    """The notebook as the feedback's template renders it, without nbconvert's own sanitiser."""
    import nbgrader
    from nbconvert.exporters import HTMLExporter
    from traitlets.config import Config

    base = Path(nbgrader.__file__).parent / "server_extensions" / "formgrader"
    cfg = Config()
    cfg.HTMLExporter.template_name = "feedback"
    cfg.HTMLExporter.extra_template_basedirs = [str(base / "templates")]
    cfg.HTMLExporter.extra_template_paths = [str(base / "static" / "node_modules" / "bootstrap" / "dist" / "css")]
    cfg.HTMLExporter.sanitize_html = False
    body, _ = HTMLExporter(config=cfg).from_notebook_node(
        nb, resources={"nbgrader": {"notebook": STEM, "score": 1, "max_score": 2, "late_penalty": 0}})
    return body


def test_neutralised_notebooks_render_nothing_that_runs():
    baseline = set(grading.active_content(render(new_notebook(cells=[new_code_cell("1")])))[1])
    found, scripts = grading.active_content(render(hostile(missing=False)))  # missing: would not even render
    assert found and set(scripts) - baseline       # the scanner sees what the raw notebook would run
    nb = hostile()
    changed = grading.neutralize_notebook(nb)
    assert changed == ["cell 1", "cell 2", "cell 3", "cell 4", "cell 5"]
    found, scripts = grading.active_content(render(nb))
    assert found == [] and set(scripts) <= baseline, (found, set(scripts) - baseline)
    assert "widgets" not in nb.metadata
    nbformat.validate(nb)
    assert grading.neutralize_notebook(nb) == []   # idempotent


def test_neutralising_leaves_plain_markdown_and_the_release_alone():
    nb = released()
    before = copy.deepcopy(nb)
    lock = gid_cell(nb, "task1")
    lock.source += "\n<b>the instructor may use HTML</b>"
    gid_cell(before, "task1").source = lock.source
    assert grading.neutralize_notebook(nb, locked_sources=False) == []
    assert [c.source for c in nb.cells] == [c.source for c in before.cells]
    plain = "**x** > y, `a<b`, $x > 0$ and [a link](https://example.org)\n\n> quoted"
    assert grading.clean_markdown(plain) == plain
    mixed = plain + " <b title='t'>ok</b> a<b and <img src=x onerror=alert(1)> `<script>` $a<b$ [j](javascript:x)"
    assert grading.clean_markdown(mixed) == (plain + ' <b title="t">ok</b> a&lt;b and &lt;img src=x onerror=alert(1)> '
                                             "`<script>` $a<b$ [j](blocked:x)")


def test_feedback_header_shows_a_file_name_as_text():
    nb = new_notebook(cells=[new_code_cell("1")])
    nb.metadata[grading.INTAKE] = {"notes": [intake.note("renamed", "'<img src=x onerror=alert(1)>.ipynb'",
                                                         "graded '<img src=x onerror=alert(1)>.ipynb' [x](javascript:y)")]}
    nb, _ = grading.FeedbackHeader().preprocess(nb, {"nbgrader": {"score": 1, "max_score": 2}})
    nb, _ = grading.NeutralizeActiveContent().preprocess(nb, {})
    assert "<img" not in nb.cells[0].source and "](javascript" not in nb.cells[0].source
    found, _ = grading.active_content(render(nb))
    assert found == []


# ------------------------------------------------------------------ the ipc directory (item 3)
def test_the_kernel_gets_its_sockets_in_a_read_only_directory(tmp_path):
    box = sb.Sandbox(tmp_path)
    args = box.bwrap_args()
    assert ["--ro-bind", str(box.ipc), str(box.ipc)] == args[args.index(str(box.ipc)) - 1:][:3]
    assert not any(args[i] == "--bind" and args[i + 1] == str(box.ipc) for i in range(len(args) - 1))
    assert box.kernel_argv()[:3] == [sys.executable, "-m", "dlbook_tools.kernel_io"]


def test_kernel_code_cannot_write_into_the_ipc_directory():
    if sb.unavailable():
        if os.environ.get("DLBOOK_REQUIRE_SANDBOX") == "1":
            pytest.fail(f"the grading sandbox cannot run here: {sb.unavailable()}")
        pytest.skip(f"the grading sandbox cannot run here: {sb.unavailable()}")
    from traitlets.config import Config

    probe = """import os, sys
ipc = os.path.dirname(sys.argv[sys.argv.index("-f") + 1])
res = []
for what, fn in [("write", lambda: open(os.path.join(ipc, "fill"), "wb").write(b"x" * 4096)),
                 ("mkdir", lambda: os.mkdir(os.path.join(ipc, "d"))),
                 ("unlink", lambda: os.unlink(os.path.join(ipc, sorted(os.listdir(ipc))[0]))),
                 ("symlink", lambda: os.symlink("/etc/passwd", os.path.join(ipc, "k-9")))]:
    try:
        fn()
        res.append(what + " ALLOWED")
    except OSError as err:
        res.append(f"{what} {err.errno}")
print(" ".join(res))"""
    cfg = Config()
    cfg.SandboxedExecute.timeout = 30
    cfg.SandboxedExecute.notebook_timeout = 60
    cfg.SandboxedExecute.memory_limit = "1G"
    nb = new_notebook(cells=[new_code_cell(probe), new_code_cell("print('still talking')")])
    nb, _ = grading.SandboxedExecute(config=cfg).preprocess(nb, {"metadata": {"path": tempfile.gettempdir()}})
    out = nb.cells[0].outputs[0]["text"]
    assert "ALLOWED" not in out and out.count(" 30") == 4, out       # EROFS: a read-only file system
    assert nb.cells[1].outputs[0]["text"] == "still talking\n"


# ------------------------------------------------------------------ what was done to a submission
def test_restored_points_flags_and_grade_ids_are_said():
    nb = released()
    gid_cell(nb, "test_perceptron").metadata["nbgrader"]["points"] = 100
    gid_cell(nb, "test_nand").metadata["nbgrader"]["grade"] = False
    gid_cell(nb, "test_xor").metadata["nbgrader"]["solution"] = True
    intake.normalize(nb)
    before = review.snapshot(nb)
    intake.repair(nb, released())
    notes = {n["kind"]: n for n in review.metadata_restored(before)}
    assert notes["points-restored"]["en"] == "points restored: test_perceptron (100 → 2)"
    assert "test_nand (grade)" in notes["flags-restored"]["en"] and "test_xor (solution)" in notes["flags-restored"]["en"]
    assert "배점" in notes["points-restored"]["ko"]
    untouched = released()
    before = review.snapshot(untouched)
    intake.repair(untouched, released())
    assert review.metadata_restored(before) == []


@pytest.mark.parametrize("source, flagged", [
    ("expect_close = lambda *a, **k: None", ["rebinds expect_close"]),
    ("def expect(*a):\n    pass", ["defines expect"]),
    ("def call(fn, *a, **k):\n    return fn(*a)", ["defines call"]),
    ("import dlbook.check\ndlbook.check.expect_tensor = print", ["sets dlbook.check.expect_tensor"]),
    ("from dlbook import check as c\nc.call = None", ["sets c.call"]),
    ("globals()['expect_close'] = print", ["sets globals()['expect_close']"]),
    ("setattr(__import__('dlbook.check'), 'expect', 1)", ["setattr(…, 'expect')"]),
    ("from mylib import expect_close", ["rebinds expect_close"]),
    ("import builtins as call", ["rebinds call"]),
    ("def f():\n    global expect\n    expect = 1", ["rebinds expect"]),
    ("for call in range(3):\n    pass", ["rebinds call"]),
    ("import sys\nsys.modules['dlbook.check'] = None", ["replaces sys.modules['dlbook.check']"]),
    ("exec('expect_close = print')", ["exec() of code that rebinds a check"]),
    ("def perceptron(x, w, theta):\n    call = x @ w\n    return (call > theta).float()", []),   # a local name
    ("from dlbook.check import call, expect, expect_close", []),                                # the checks themselves
    ("y = call(perceptron, X, w, 0.5)\nexpect_close(y, [0.0], 'y')", []),                      # using them is fine
    ("%pip install x\nexpect = 3", ["rebinds expect"]),                                        # a magic does not hide it
    ("def broken(:\nexpect_close = None", ["rebinds a check (expect_close =)"]),              # unparsable: by pattern
])
def test_checker_rebinding_is_found(source, flagged):
    assert [w for _, w in review.rebinds_in(source)] == flagged


def test_the_reference_solution_rebinds_nothing():
    assert review.checker_rebinding(SOLUTION) == []
    nb = released()
    gid_cell(nb, "nand").source = "expect_close = lambda *a, **k: None\nNAND_W = None"
    gid_cell(nb, "test_nand").source += "\nexpect = None"   # test cells are the release's: not the student's
    assert review.checker_rebinding(nb) == [{"kind": "checker-rebound", "cell": "nand", "line": 1,
                                             "what": "rebinds expect_close"}]
    ko, en = review.flag_text(review.checker_rebinding(nb))
    assert "for review" in en and "nand rebinds expect_close (line 1)" in en and "검토 필요" in ko


# ------------------------------------------------------------------ item analysis and similarity
def rows_of(results: dict[str, dict[str, tuple[float, float, str | None]]]) -> list[dict]:
    rows = []
    for sid, tests in results.items():
        t = [{"id": k, "score": s, "max": m, "error": e} for k, (s, m, e) in tests.items()]
        rows.append({"student": sid, "status": "graded", "score": sum(x["score"] for x in t),
                     "max_score": sum(x["max"] for x in t), "tests": t})
    return rows + [{"student": "s99", "status": "refused"}]


def test_item_analysis_on_synthetic_results():
    ok = (2, 2, None)
    wrong = (0, 2, "ExerciseFailure: perceptron(X) must be [0, 1]")
    crash = (0, 2, "ExerciseFailure: perceptron raised TypeError: bad")
    rows = rows_of({
        "a": {"t1": ok, "t2": (3, 3, None)}, "b": {"t1": ok, "t2": (3, 3, None)}, "c": {"t1": wrong, "t2": (3, 3, None)},
        "d": {"t1": wrong, "t2": (0, 3, "NameError: x")}, "e": {"t1": crash, "t2": (0, 3, None)}})
    a = review.item_analysis(rows)
    assert a["students"] == 5 and a["max_score"] == 5 and a["scores"] == [0, 0, 3, 5, 5]
    t1, t2 = a["items"]
    assert (t1["id"], t1["passed"], t1["students"], t1["pass_rate"]) == ("t1", 2, 5, 0.4)
    assert t1["failures"] == [{"message": wrong[2], "count": 2}, {"message": crash[2], "count": 1}]
    assert t2["failures"][0] == {"message": "NameError: x", "count": 1} and t2["pass_rate"] == 0.6
    assert t1["discrimination"] > 0.5      # those who pass t1 do better on the rest
    assert [h["count"] for h in a["histogram"]] == [2, 0, 0, 1, 0, 2]
    assert a["mean"] == 2.6 and a["median"] == 3


def test_similarity_lists_identical_and_renamed_answers_never_the_release():
    stub = {"p": "def perceptron(x, w, theta):\n    raise NotImplementedError()", "q": "Q = None"}
    ref = {"p": "def perceptron(x, w, theta):\n    return (x @ w - theta > 0).float()", "q": "Q = 1"}
    mine = "def perceptron(x, w, theta):\n    z = x @ w\n    return (z - theta > 0).float()"
    renamed = "def perceptron(a, b, c):\n    # mine\n    t   =   a @ b\n\n    return (t - c > 0).float()  "
    long = "def perceptron(x, w, theta):\n    out = (x @ w - theta) > 0\n    out = out.to(torch.float32)\n    return out * 1.0"
    answers = {"s1": {"p": mine, "q": "Q = 1"}, "s2": {"p": renamed, "q": "Q = 1"}, "s3": {"p": mine, "q": "Q = 1"},
               "s4": dict(ref), "s5": dict(ref), "s6": dict(stub), "s7": dict(stub),
               "s8": {"p": long, "q": "Q = 2"}, "s9": {"p": long, "q": "Q = 3"}, "s10": {"p": ref["p"], "q": "Q = 4"}}
    sim = review.similarity(answers, stub, ref)
    assert sim["groups"] == [{"students": ["s1", "s2", "s3"], "exact": [["s1", "s3"]], "cells": ["p"], "versus": "reference"}]
    assert {tuple(p["students"]): p["kind"] for p in sim["pairs"]} == {
        ("s1", "s2"): "normalised", ("s1", "s3"): "identical", ("s2", "s3"): "normalised"}
    assert sim["reference"] == ["s4", "s5"]                     # apart, as one line; s6, s7 handed in the stub
    assert sim["cells"] == [{"cell": "p", "students": ["s8", "s9"], "kind": "identical"}]
    lines = review.similarity_lines(sim)
    assert lines[0].startswith("s1, s2, s3: every answer cell the same") and "identical as written: s1 = s3" in lines[0]
    assert review.similarity_lines(review.similarity({}, stub, ref)) == ["none"]
    assert review.normalize_code(mine) == review.normalize_code(renamed) != review.normalize_code(ref["p"])


def test_analysis_writes_a_chart_and_a_static_page(tmp_path):
    c = tmp_path / "course"
    for d, src in (("release", ROOT / "exercises"), ("source", ROOT / "solutions")):
        (c / d / STEM).mkdir(parents=True)
        shutil.copy(src / f"{STEM}.ipynb", c / d / STEM / f"{STEM}.ipynb")
    evil = "ExerciseFailure: <script>alert(1)</script>\x1b[2J"
    results = {}
    for sid, answer in (("s48", "def perceptron(x, w, theta):\n    z = x @ w\n    return (z - theta > 0).float()"),
                        ("s49", "def perceptron(a, b, c):\n    s = a @ b\n    return (s - c > 0).float()"),
                        ("s01", None)):
        nb = notebooks.read(ROOT / "solutions" / f"{STEM}.ipynb")
        if answer:
            gid_cell(nb, "perceptron").source = answer
        (c / "autograded" / sid / STEM).mkdir(parents=True)
        nbformat.write(nb, str(c / "autograded" / sid / STEM / f"{STEM}.ipynb"))
        results[sid] = {"test_perceptron": (2, 2, None) if sid != "s01" else (0, 2, evil), "test_nand": (1, 1, None)}
    data = review.analysis(c, STEM, rows_of(results))
    png = c / "reports" / f"{STEM}-analysis.png"
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and data["chart"] == str(png)
    page = (c / "reports" / f"{STEM}-analysis.html").read_text(encoding="utf-8")
    assert grading.active_content(page) == ([], []) and "&lt;script&gt;" in page and "\x1b" not in page
    saved = json.loads((c / "reports" / f"{STEM}-analysis.json").read_text(encoding="utf-8"))
    assert saved["similarity"]["groups"][0]["students"] == ["s48", "s49"] and saved["similarity"]["reference"] == ["s01"]
    for lang, words in (("en", ["Item analysis", "Similar submissions", "s48, s49"]), ("ko", ["문항 분석", "비슷한 제출물", "모범 답안"])):
        text = review.format_analysis(data, lang)
        assert all(w in text for w in words) and not BAD.search(text.replace("\n", "")), text
    assert "1× ExerciseFailure: <script>" in review.format_analysis(data)
