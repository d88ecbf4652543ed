"""nbgrader pieces the course uses (imported by the course's ``nbgrader_config.py``).

* :class:`StderrIsNotFailure` — a warning on stderr does not fail a test cell.
* :class:`SandboxedExecute` — nbgrader's ``Execute`` with the kernel inside the sandbox of
  :mod:`dlbook_tools.sandbox`, a time limit per cell and per notebook, capped output, and a
  clear message in each cell that did not run (time limit, kernel death) instead of a crash.
* :class:`ReplayExecution` — used by ``dlbook-tools course autograde``: the notebooks were
  already executed in parallel, one sandbox each; nbgrader then records the grades
  sequentially, replaying those outputs, so a parallel run equals a sequential one.
* :class:`ScrubHiddenTests`, :class:`FeedbackHeader` — feedback without hidden tests' source,
  headed by the score and what happened, in Korean and English.
* :func:`neutralize_notebook` (:class:`NeutralizeActiveContent`) — nothing of a student's runs where
  a notebook is rendered (feedback, formgrader); :func:`safe_text` — no terminal escape in what the
  kit prints or stores.

``python -m dlbook_tools.grading worker SPEC.json`` executes one submission (phase 1 of
``course autograde``); it runs outside the sandbox and starts the sandboxed kernel.
"""
from __future__ import annotations

import json
import os
import re
import sys
import tempfile
import time
import traceback
from pathlib import Path

from nbgrader import utils
from nbgrader.preprocessors import Execute, NbGraderPreprocessor
from traitlets import Bool, Integer, List, Unicode

from . import sandbox as sb

# Shown in place of a solution: both languages, then the line nbgrader expects.
CODE_STUB = "# 여기에 코드를 작성하세요 · YOUR CODE HERE\nraise NotImplementedError()"
TEXT_STUB = "여기에 답을 쓰세요 · YOUR ANSWER HERE"
SETTINGS = "dlbook_course.json"
REPLAY_ENV = "DLBOOK_REPLAY_DIR"
META = "dlbook_grading"     # notebook metadata: what happened while executing
INTAKE = "dlbook_intake"    # notebook metadata: what was repaired before executing
HIDDEN_NOTE = "# [숨겨진 테스트는 채점에만 쓰입니다 · hidden tests are used for grading only]"


def bilingual(ko: str, en: str) -> str:
    return f"[한국어] {ko}\n[English] {en}"


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


# --------------------------------------------------------------------------- execution
def _error(ename: str, ko: str, en: str):
    from nbformat.v4 import new_output

    text = bilingual(ko, en)
    return new_output("error", ename=ename, evalue=text, traceback=[f"{ename}: {text}"])


def _size(out) -> int:
    if out.get("output_type") == "stream":
        return len(out.get("text", ""))
    if out.get("output_type") == "error":
        return sum(len(x) for x in out.get("traceback", [])) + len(out.get("evalue", ""))
    return sum(len(v) if isinstance(v, str) else len(json.dumps(v)) for v in out.get("data", {}).values())


def _cell_name(cell, index: int) -> str:
    gid = cell.metadata.get("nbgrader", {}).get("grade_id")
    return gid or f"cell {index + 1}"


def _exit_reason(code) -> tuple[str, str]:
    """What a kernel's exit status most likely means, in Korean and English."""
    if code is None:
        return "알 수 없는 이유로", "for an unknown reason"
    sig = -code if code < 0 else (code - 128 if code > 128 else 0)
    named = {9: ("SIGKILL로 강제 종료되었습니다(메모리 한도 또는 os.kill)", "killed by SIGKILL (memory limit or os.kill)"),
             24: ("CPU 시간 한도를 넘었습니다", "over its CPU time limit"),
             25: ("파일 크기 한도를 넘었습니다", "over its file size limit"),
             11: ("세그멘테이션 오류로 멈췄습니다", "crashed (segmentation fault)"),
             6: ("abort로 멈췄습니다", "aborted")}
    if sig in named:
        return named[sig]
    return (f"종료 코드 {code}로 끝났습니다(sys.exit, os._exit, exit() 등)",
            f"exited with status {code} (sys.exit, os._exit, exit() or a crash)")


class SandboxedExecute(Execute):
    """nbgrader's ``Execute``, with every kernel inside the grading sandbox.

    A cell over ``timeout`` seconds is interrupted (a ``KeyboardInterrupt`` in the cell) and
    grading goes on with the next cell; a cell that ignores the interrupt, a notebook over
    ``notebook_timeout`` seconds, and a kernel that dies (``os._exit``, a crash, a limit)
    leave an error in the cell concerned, and every later cell says why it did not run. So a
    test cell fails with an explanation, the notebook is always returned, and nothing raises.
    """

    notebook_timeout = Integer(600, help="Wall-clock seconds for the whole notebook.").tag(config=True)
    memory_limit = Unicode("2G", help="Address space per process in the sandbox (RLIMIT_AS).").tag(config=True)
    disk_limit = Unicode("256M", help="Size of each private tmpfs in the sandbox.").tag(config=True)
    output_limit = Integer(1 << 20, help="Characters of output kept per cell and stream.").tag(config=True)
    use_sandbox = Bool(True, help="Run kernels in the bubblewrap sandbox (False: no isolation at all).").tag(config=True)
    files_dir = Unicode("", help="Directory whose files the kernel sees (default: release/<assignment>).").tag(config=True)
    hide_paths = List(Unicode(), help="Host paths that must stay invisible to the kernel.").tag(config=True)
    iopub_timeout = Integer(10).tag(config=True)
    skip_probe = Bool(False, help="Trust that the sandbox works (the caller probed it).").tag(config=True)

    def limits(self) -> sb.Limits:
        return sb.Limits(cell_timeout=int(self.timeout or 60), notebook_timeout=int(self.notebook_timeout),
                         memory=sb.parse_size(self.memory_limit), disk=sb.parse_size(self.disk_limit),
                         output=int(self.output_limit))

    def _course_root(self) -> str:
        try:
            return str(self.config.CourseDirectory.root or "")
        except AttributeError:
            return ""

    def _files_dir(self, resources) -> Path | None:
        if self.files_dir:
            return Path(self.files_dir)
        root, aid = self._course_root(), resources.get("nbgrader", {}).get("assignment")
        if root and aid and (Path(root) / "release" / aid).is_dir():
            return Path(root) / "release" / aid
        return None

    # ---- output cap on the grader's side (the kernel caps its own streams too)
    def output(self, outs, msg, display_id, cell_index):
        out = super().output(outs, msg, display_id, cell_index)
        if out is not None and outs and outs[-1] is out:
            size = _size(out)
            self._dl_cell_bytes += size
            self._dl_nb_bytes += size
            if self._dl_cell_bytes > 4 * self.output_limit or self._dl_nb_bytes > 32 * self.output_limit:
                outs.pop()
                if not self._dl_cell_noted:
                    from nbformat.v4 import new_output

                    self._dl_cell_noted = True
                    outs.append(new_output("stream", name="stdout", text=(
                        "\n[채점기: 출력이 너무 많아 나머지는 버렸습니다 · grader: further output of this cell dropped]\n")))
                    self._dl_events.append({"cell": _cell_name(self.nb.cells[cell_index], cell_index), "kind": "output-truncated"})
        return out

    def preprocess_cell(self, cell, resources, index):
        self._dl_cell_bytes, self._dl_cell_noted = 0, False
        return super().preprocess_cell(cell, resources, index)

    def preprocess(self, nb, resources, km=None):
        nb, resources = self._execute(nb, resources, km)
        cells = neutralize_notebook(nb, locked_sources=False)
        if cells:
            meta = nb.metadata.setdefault(META, {"events": []})
            meta.setdefault("events", []).append({"cell": ", ".join(cells), "kind": "active-content"})
        return nb, resources

    def _execute(self, nb, resources, km=None):
        self._dl_events = []
        self._dl_nb_bytes = 0
        if not self.use_sandbox:
            self.log.warning("Executing WITHOUT the sandbox: student code can read and write anything you can")
            return super().preprocess(nb, resources, km)
        reason = ("bubblewrap is not installed" if not sb.bwrap() else None) if self.skip_probe else sb.unavailable()
        if reason:
            raise RuntimeError(f"cannot grade safely: {reason}. Install bubblewrap, or set "
                               "c.SandboxedExecute.use_sandbox = False to grade without isolation.")
        limits = self.limits()
        hide = list(self.hide_paths) + ([self._course_root()] if self._course_root() else [])
        with tempfile.TemporaryDirectory(prefix="dlbook-sbx-") as scratch:
            box = sb.Sandbox(Path(scratch), limits, files=self._files_dir(resources), hide=tuple(hide))
            log = Path(scratch) / "kernel.log"
            return self._run(nb, resources, sb.kernel_manager(box, log), limits, log)

    def _run(self, nb, resources, km, limits: sb.Limits, log: Path):
        from nbclient.client import NotebookClient
        from nbclient.exceptions import CellTimeoutError, DeadKernelError

        NotebookClient.__init__(self, nb, km)
        self.reset_execution_trackers()
        self._check_assign_resources(resources)
        self.record_timing = False
        start = time.monotonic()
        deadline = start + limits.notebook_timeout
        self.timeout_func = lambda cell: max(1, int(min(limits.cell_timeout, deadline - time.monotonic()) + 0.999))
        self.shutdown_kernel = "immediate"
        stop = None  # (ko, en): why the remaining cells do not run
        broke_at = None
        events = self._dl_events
        try:
            with self.setup_kernel(cleanup_kc=True):
                info = self.wait_for_reply(self.kc.kernel_info())
                if info:
                    self.nb.metadata["language_info"] = info["content"]["language_info"]
                for index, cell in enumerate(self.nb.cells):
                    if cell.cell_type != "code" or not cell.source.strip():
                        continue
                    name = _cell_name(cell, index)
                    if stop is None and time.monotonic() >= deadline:
                        stop = ("노트북 전체 시간 한도({}초)를 넘었습니다".format(limits.notebook_timeout),
                                f"the notebook's time limit ({limits.notebook_timeout} s) was exceeded")
                        events.append({"cell": name, "kind": "notebook-timeout"})
                    if stop is not None:
                        cell.outputs = [_error("NotRun", f"이 셀은 실행되지 않았습니다: {stop[0]}.",
                                               f"This cell did not run: {stop[1]}.")]
                        continue
                    try:
                        self.preprocess_cell(cell, resources, index)
                    except DeadKernelError:
                        code = km.provisioner.process.poll() if km.provisioner and km.provisioner.process else None
                        ko, en = _exit_reason(code)
                        cell.outputs.append(_error("KernelDied", f"이 셀을 실행하다 커널이 {ko}.",
                                                   f"The kernel died while running this cell: {en}."))
                        events.append({"cell": name, "kind": "kernel-died", "code": code})
                        stop = (f"앞의 셀({name})에서 커널이 멈췄습니다", f"the kernel died in {name}")
                    except (CellTimeoutError, ValueError, KeyError, TypeError) as err:
                        if isinstance(err, CellTimeoutError):  # the interrupt was ignored
                            ename, kind = "CellTimeoutError", "timeout-unstoppable"
                            why = (f"시간 한도({limits.cell_timeout}초)를 넘었고 중단 요청에도 멈추지 않아 커널을 종료했습니다.",
                                   f"Over the time limit ({limits.cell_timeout} s) and the interrupt was ignored: the kernel was stopped.")
                            stop = (f"앞의 셀({name})이 멈추지 않아 커널을 종료했습니다", f"{name} could not be stopped")
                        else:  # e.g. a forged or garbled message
                            ename, kind = "KernelMisbehaved", "kernel-misbehaved"
                            why = (f"커널이 잘못된 메시지를 보내 커널을 종료했습니다: {type(err).__name__}.",
                                   f"The kernel sent an invalid message ({type(err).__name__}: {str(err)[:120]}); it was stopped.")
                            stop = (f"앞의 셀({name})에서 커널이 잘못된 메시지를 보냈습니다", f"the kernel misbehaved in {name}")
                        cell.outputs.append(_error(ename, *why))
                        events.append({"cell": name, "kind": kind})
                        broke_at = index
                        break
                    else:
                        if any(o.get("output_type") == "stream" and "grader: output truncated" in o.get("text", "")
                               for o in cell.outputs) and not any(e.get("cell") == name and e["kind"] == "output-truncated"
                                                                  for e in events):
                            events.append({"cell": name, "kind": "output-truncated"})
                        if any(o.get("ename") == "CellTimeoutError" for o in cell.outputs):
                            over = time.monotonic() >= deadline - 0.5
                            for o in cell.outputs:
                                if o.get("ename") == "CellTimeoutError":
                                    limit = (f"노트북 전체 시간 한도({limits.notebook_timeout}초)", f"the notebook's time limit ({limits.notebook_timeout} s)") \
                                        if over else (f"셀 하나의 시간 한도({limits.cell_timeout}초)", f"the time limit of one cell ({limits.cell_timeout} s)")
                                    o["evalue"] = bilingual(f"{limit[0]}를 넘어 중단했습니다.", f"Interrupted: over {limit[1]}.")
                                    o["traceback"] = [f"CellTimeoutError: {o['evalue']}"]
                            events.append({"cell": name, "kind": "notebook-timeout" if over else "timeout"})
                if broke_at is not None:  # the cells after an unstoppable one
                    for cell in self.nb.cells[broke_at + 1:]:
                        if cell.cell_type == "code" and cell.source.strip():
                            cell.outputs = [_error("NotRun", f"이 셀은 실행되지 않았습니다: {stop[0]}.",
                                                   f"This cell did not run: {stop[1]}.")]
        except (DeadKernelError, RuntimeError, TimeoutError, OSError) as err:
            if events and events[-1]["kind"] in {"kernel-died", "timeout-unstoppable"}:
                pass  # the kernel's end was already recorded; cleaning up after it may complain
            else:
                detail = log.read_text(errors="replace")[-1500:] if log.exists() else ""
                events.append({"cell": None, "kind": "kernel-failed", "detail": f"{type(err).__name__}: {err}\n{detail}".strip()})
                for cell in self.nb.cells:
                    if cell.cell_type == "code" and cell.source.strip() and not cell.get("outputs"):
                        cell.outputs = [_error("KernelFailed", "채점용 커널을 시작하지 못했습니다(채점 환경 문제입니다).",
                                               f"The grading kernel failed ({type(err).__name__}: {err}); this is not the student's fault.")]
        self.nb.metadata[META] = {"events": events, "seconds": round(time.monotonic() - start, 1),
                                  "limits": limits.to_dict(), "sandbox": True}
        self.set_widgets_metadata()
        return self.nb, self.resources


class ReplayExecution(NbGraderPreprocessor):
    """Take each cell's outputs from a notebook executed earlier (phase 1 of ``course autograde``)."""

    replay_dir = Unicode("", help="Directory of executed notebooks: <dir>/<student>/<notebook>.ipynb").tag(config=True)

    def preprocess(self, nb, resources):
        import nbformat

        where = Path(self.replay_dir or os.environ.get(REPLAY_ENV, ""))
        info = resources["nbgrader"]
        path = where / info["student"] / f"{info['notebook']}.ipynb"
        if not path.exists():
            raise RuntimeError(f"no executed notebook for {info['student']} at {path}")
        done = nbformat.read(str(path), as_version=4)
        if [(c.cell_type, c.source) for c in done.cells] != [(c.cell_type, c.source) for c in nb.cells]:
            raise RuntimeError(f"{path} does not match the sanitized submission of {info['student']}")
        for cell, ran in zip(nb.cells, done.cells):
            if cell.cell_type == "code":
                cell.outputs = ran.get("outputs", [])
                cell.execution_count = ran.get("execution_count")
        for key in (META, "language_info"):
            if key in done.metadata:
                nb.metadata[key] = done.metadata[key]
        neutralize_notebook(nb, sources=False)  # executed by an older kit, or edited: never trusted
        return nb, resources


# --------------------------------------------------------------------------- text that reaches a person
# Terminal escape sequences (CSI, OSC such as the clipboard write OSC 52, DCS/PM/APC strings, 8-bit
# CSI/OSC) and control characters a student's exception or file name may carry; bidirectional
# overrides, which reorder what a reader sees, are dropped with them.
ESCAPES = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]?|\x1b\][^\x07\x1b\x9c]*(?:\x07|\x1b\\|\x9c)?|\x1b[PX^_][^\x1b\x9c]*(?:\x1b\\|\x9c)?"
                     r"|\x1b[ -/]*[0-~]?|\x9b[0-?]*[ -/]*[@-~]?|[\x90\x98\x9d\x9e\x9f][^\x07\x1b\x9c]*(?:\x07|\x1b\\|\x9c)?")
CONTROLS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")
ANSI = ESCAPES  # kept for callers


def safe_text(text, *, oneline: bool = False) -> str:
    """``text`` without terminal escapes and control characters (tabs and newlines kept, or with
    ``oneline`` turned into spaces): safe to print on a terminal, to put in a CSV or a report."""
    if text is None:
        return ""
    text = str(text).replace("\r\n", "\n").replace("\r", "\n")
    text = CONTROLS.sub("", ESCAPES.sub("", text))
    if oneline:
        text = re.sub(r"[\t\n\u2028\u2029]+", " ", text)
    return text


class SafeStream:
    """A text stream (the console) that passes everything through :func:`safe_text`."""

    def __init__(self, stream):
        self._stream = stream

    def write(self, text):
        return self._stream.write(safe_text(text))

    def __getattr__(self, name):
        return getattr(self._stream, name)


# --------------------------------------------------------------------------- feedback
def visible_text(html_text: str) -> str:
    """What a reader of an HTML page sees, whitespace collapsed: what the leak check searches."""
    import html as h

    return " ".join(h.unescape(re.sub(r"<[^>]+>", "", html_text)).split())


def squash(text: str) -> str:
    """The whitespace normalisation of the leak check: every run of whitespace one space, no escapes."""
    return " ".join(ESCAPES.sub("", text).split())


def hidden_lines(source: str) -> list[str]:
    """The non-trivial lines between BEGIN/END HIDDEN TESTS."""
    out, inside = [], False
    for line in source.splitlines():
        if "BEGIN HIDDEN TESTS" in line:
            inside = True
        elif "END HIDDEN TESTS" in line:
            inside = False
        elif inside and len(line.strip()) >= 6:
            out.append(line.strip())
    return out


def secret_lines(sources) -> list[str]:
    """The hidden tests' lines of these cell sources, normalised as the leak check compares them."""
    return sorted({squash(s) for src in sources for s in hidden_lines(src)} - {""}, key=len, reverse=True)


HIDDEN = "[숨김 · hidden]"


def _squashed(text: str) -> tuple[str, list[int]]:
    """:func:`squash` of ``text``, and for each of its characters the index it came from."""
    plain, where = [], []
    pending_space = False
    for m in re.finditer(ESCAPES.pattern + r"|\s+|.", text, re.S):
        tok = m.group(0)
        if ESCAPES.fullmatch(tok) and tok[:1] in ("\x1b", "\x9b", "\x90", "\x98", "\x9d", "\x9e", "\x9f"):
            continue
        if tok.isspace():
            pending_space = bool(plain)
            continue
        if pending_space:
            plain.append(" ")
            where.append(m.start())
            pending_space = False
        plain.append(tok)
        where.append(m.start())
    return "".join(plain), where


def scrub_text(text: str, secrets: list[str]) -> str:
    """Hide every line of ``text`` that shows (part of) a hidden test's line, compared as the leak
    check compares: whitespace runs (tabs, newlines) as one space, terminal escapes ignored."""
    if not secrets or not text:
        return text
    norm = [squash(s) for s in secrets]
    whole = squash(text)
    if not any(s and s in whole for s in norm):
        return text
    flat, where = _squashed(text)
    spans = []
    for s in norm:
        if not s:
            continue
        start = flat.find(s)
        while start != -1:
            spans.append((where[start], where[start + len(s) - 1]))
            start = flat.find(s, start + 1)
    if not spans:
        return text
    lines, out, offset = text.split("\n"), [], 0
    for line in lines:
        lo, hi = offset, offset + len(line)
        hit = any(a <= hi and b >= lo for a, b in spans)
        if hit:
            if not out or out[-1] != HIDDEN:
                out.append(HIDDEN)
        else:
            out.append(line)
        offset = hi + 1
    return "\n".join(out)


def _scrub_html(value: str, secrets: list[str]) -> str:
    """An HTML output that shows a hidden test (as the leak check reads HTML) is replaced whole."""
    text = visible_text(value)
    if any(s and s in text for s in secrets):
        return f"<pre>{HIDDEN}</pre>"
    return scrub_text(value, secrets)


def scrub_notebook(nb, secrets: list[str] | None = None) -> int:
    """Remove hidden tests' source from cells and from every output (tracebacks quote it).

    ``secrets`` (normalised lines, see :func:`secret_lines`) default to the hidden tests found in
    ``nb`` itself; the feedback passes those of the course's ``source/`` notebook. Returns the count
    of cells whose source was cut."""
    own = secret_lines(c.get("source", "") for c in nb.cells)
    secrets = sorted(set(own) | set(secrets or []), key=len, reverse=True)
    count = 0
    for cell in nb.cells:
        if "BEGIN HIDDEN TESTS" in cell.get("source", ""):
            kept, inside = [], False
            for line in cell.source.split("\n"):
                if "BEGIN HIDDEN TESTS" in line:
                    inside = True
                    kept.append(HIDDEN_NOTE)
                elif "END HIDDEN TESTS" in line:
                    inside = False
                elif not inside:
                    kept.append(line)
            cell.source = "\n".join(kept)
            count += 1
        outs = cell.get("outputs", [])
        for out in outs:
            if isinstance(out.get("text"), str):
                out["text"] = scrub_text(out["text"], secrets)
            if isinstance(out.get("traceback"), list):
                out["traceback"] = [scrub_text(t, secrets) if isinstance(t, str) else t for t in out["traceback"]]
            if isinstance(out.get("evalue"), str):
                out["evalue"] = scrub_text(out["evalue"], secrets)
            if isinstance(out.get("ename"), str):
                out["ename"] = scrub_text(out["ename"], secrets)
            for k, v in list(out.get("data", {}).items()):
                if isinstance(v, str) and k == "text/html":
                    out["data"][k] = _scrub_html(v, secrets)
                elif isinstance(v, str) and (k.startswith("text/") or k == "image/svg+xml"):
                    out["data"][k] = scrub_text(v, secrets)
        # a line printed in pieces (half on stdout, half on stderr) reads as one line in the HTML
        pieces = [_output_text(o) for o in outs]
        if len([x for x in pieces if x]) > 1:
            joined = squash("".join(pieces)) + "\n" + squash(" ".join(pieces))
            if any(s in joined for s in secrets):
                cell.outputs = [_hidden_output()]
    return count


def _output_text(out) -> str:
    if out.get("output_type") == "stream":
        return out.get("text") if isinstance(out.get("text"), str) else ""
    if out.get("output_type") == "error":
        return "\n".join(t for t in out.get("traceback", []) if isinstance(t, str))
    data = out.get("data", {}) if isinstance(out.get("data"), dict) else {}
    if isinstance(data.get("text/html"), str):
        return visible_text(data["text/html"])
    for k in ("text/markdown", "text/latex", "text/plain"):
        if isinstance(data.get(k), str):
            return data[k]
    return ""


def _hidden_output():
    from nbformat.v4 import new_output

    return new_output("stream", name="stdout", text=HIDDEN + "\n")


def _source_secrets(config, resources) -> list[str]:
    """The hidden tests of the course's ``source/`` notebook for this one (empty if not found)."""
    import nbformat

    try:
        root = str(config.CourseDirectory.root or "")
    except AttributeError:
        root = ""
    g = resources.get("nbgrader", {})
    path = Path(root) / "source" / str(g.get("assignment", "")) / f"{g.get('notebook', '')}.ipynb"
    if not root or not path.is_file():
        return []
    return secret_lines(c.get("source", "") for c in nbformat.read(str(path), as_version=4).cells)


class ScrubHiddenTests(NbGraderPreprocessor):
    """Feedback shows no hidden test's source: not in the cell, not quoted by a traceback."""

    def preprocess(self, nb, resources):
        scrub_notebook(nb, _source_secrets(self.config, resources))
        return nb, resources


# --------------------------------------------------------------------------- active content
# A student's notebook is rendered as HTML twice: in the feedback and by the formgrader (the
# notebooks in autograded/). Nothing in either may run code in the reader's browser: scripts,
# event handlers, javascript: links, widget state, or attributes injected through an output's data
# or metadata. Outputs keep a safe subset (text, sanitised HTML, base64 images, SVG as an image).
SAFE_TAGS = {"a", "abbr", "b", "blockquote", "br", "caption", "code", "col", "colgroup", "dd", "del", "details", "div",
             "dl", "dt", "em", "figcaption", "figure", "h1", "h2", "h3", "h4", "h5", "h6", "hr", "i", "img", "ins", "kbd",
             "li", "mark", "ol", "p", "pre", "q", "s", "samp", "small", "span", "strong", "sub", "summary", "sup",
             "table", "tbody", "td", "tfoot", "th", "thead", "tr", "tt", "u", "ul", "var"}
SAFE_MIMES = {"text/plain", "text/html", "text/markdown", "text/latex", "image/png", "image/jpeg", "image/gif",
              "image/svg+xml", "application/json"}
IMAGE_DATA = re.compile(r"^[A-Za-z0-9+/=\s]*$")
SAFE_URL = re.compile(r"^(?:https?://|mailto:|#|[\w./-]*$)", re.I)
SAFE_IMG = re.compile(r"^(?:https?://|data:image/(?:png|jpeg|gif|svg\+xml);base64,[A-Za-z0-9+/=\s]*$)", re.I)
SCRIPT_URL = re.compile(r"(?:j|&#0*106;|&#x0*6a;)(?:\s|&#\w+;)*(?:a\s*v\s*a\s*s\s*c\s*r\s*i\s*p\s*t|b\s*s\s*c\s*r\s*i\s*p\s*t)\s*:"
                        r"|v\s*b\s*s\s*c\s*r\s*i\s*p\s*t\s*:|d\s*a\s*t\s*a\s*:\s*text/html", re.I)
BLANK_PNG = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg=="
ACTIVE_NOTE = "[채점기: 실행될 수 있는 내용을 지웠습니다 · grader: active content removed]"
RAW_HTML = re.compile(r"<\s*[a-zA-Z!/?]|javascript|vbscript|data\s*:", re.I)


def _attr_ok(tag: str, name: str, value: str) -> bool:
    name = name.lower()
    if name in ("class", "title", "align", "colspan", "rowspan", "border", "alt", "open", "start", "dir", "lang"):
        return True
    if tag == "a" and name == "href":
        return bool(SAFE_URL.match(value.strip())) and not SCRIPT_URL.search(value)
    if tag == "img" and name == "src":
        return bool(SAFE_IMG.match(value.strip()))
    if tag == "img" and name in ("width", "height"):
        return value.strip().isdigit()
    return False


def clean_html(value: str) -> str:
    """HTML with only inert tags and attributes: no script, style, frame, form, event handler or
    javascript: URL (their text stays, escaped)."""
    import bleach

    return bleach.clean(value, tags=SAFE_TAGS, attributes=_attr_ok, protocols={"http", "https", "mailto", "data"},
                        strip=True, strip_comments=True)


MD_PROTECTED = re.compile(r"```.*?(?:```|$)|~~~.*?(?:~~~|$)|\$\$.*?\$\$|\$[^$\n]+\$|`[^`\n]*`", re.S)
MD_TAG = re.compile(r"<(/?)([a-zA-Z][\w:-]*)((?:\s[^<>]*?)?)\s*(/?)>")
MD_ATTR = re.compile(r"\s*([^\s=/>\"']+)(?:\s*=\s*(\"[^\"]*\"|'[^']*'|[^\s\"'=<>`]+))?")


def _md_tag(m) -> str | None:
    """A tag of Markdown's raw HTML rebuilt from what is allowed, or None if any part is not."""
    close, name, attrs, selfclose = m.group(1), m.group(2).lower(), m.group(3), m.group(4)
    if name not in SAFE_TAGS or (close and attrs.strip()):
        return None
    kept, pos = [], 0
    while pos < len(attrs.rstrip()):
        a = MD_ATTR.match(attrs, pos)
        if not a or a.end() == pos:
            return None
        key, raw = a.group(1).lower(), a.group(2)
        value = (raw[1:-1] if raw and raw[0] in "\"'" else raw) or ""
        if not _attr_ok(name, key, value):
            return None
        import html as h

        kept.append(f' {key}="{h.escape(h.unescape(value))}"')
        pos = a.end()
    return f"<{close}{name}{''.join(kept)}{' /' if selfclose else ''}>"


def _clean_md_text(text: str) -> str:
    text = re.sub(r"<!--.*?(?:-->|$)", "", text, flags=re.S)
    out, i = [], 0
    while True:
        j = text.find("<", i)
        if j < 0:
            out.append(text[i:])
            break
        out.append(text[i:j])
        m = MD_TAG.match(text, j)
        tag = _md_tag(m) if m else None
        if tag:
            out.append(tag)
            i = m.end()
        else:
            out.append("&lt;" if re.match(r"<\s*[a-zA-Z!/?]", text[j:j + 3]) else "<")
            i = j + 1
    return SCRIPT_URL.sub("blocked:", "".join(out))


def clean_markdown(value: str) -> str:
    """Markdown whose raw HTML is made inert: a tag that is not plainly safe is shown as text, script
    URLs are broken; code and math (which the renderer escapes) are left as they are, and Markdown
    without any tag or script URL is returned unchanged."""
    if not RAW_HTML.search(value):
        return value
    out, pos = [], 0
    for m in MD_PROTECTED.finditer(value):
        out += [_clean_md_text(value[pos:m.start()]), m.group(0)]
        pos = m.end()
    out.append(_clean_md_text(value[pos:]))
    return "".join(out)


def _safe_number(v):
    return v if isinstance(v, (int, float)) and not isinstance(v, bool) and 0 <= v < 100_000 else None


def _clean_output(out) -> bool:
    """Make one output inert; True when something was removed or changed."""
    changed = False
    kind = out.get("output_type")
    if kind == "stream":
        if out.get("name") not in ("stdout", "stderr"):
            out["name"], changed = "stdout", True
        if not isinstance(out.get("text"), str):
            out["text"], changed = str(out.get("text", "")), True
        return changed
    if kind == "error":
        for k in ("ename", "evalue"):
            if not isinstance(out.get(k), str):
                out[k], changed = str(out.get(k, "")), True
        tb = out.get("traceback")
        if not isinstance(tb, list) or not all(isinstance(t, str) for t in tb):
            out["traceback"], changed = [str(t) for t in (tb if isinstance(tb, list) else [])], True
        return changed
    data = out.get("data") if isinstance(out.get("data"), dict) else {}
    kept = {}
    for mime, v in data.items():
        if mime not in SAFE_MIMES:
            changed = True
            continue
        if mime == "application/json":
            if isinstance(v, (dict, list)):
                kept[mime] = v
            else:
                changed = True
            continue
        if not isinstance(v, str):
            if isinstance(v, list) and all(isinstance(x, str) for x in v):
                v = "".join(v)
            else:
                changed = True
                continue
        if mime.startswith("image/") and mime != "image/svg+xml":
            if not IMAGE_DATA.match(v):
                changed = True
                continue
        elif mime == "image/svg+xml":
            import base64

            # an SVG shown as an <img> runs none of its scripts
            if "text/html" not in data:
                kept["text/html"] = ('<img src="data:image/svg+xml;base64,'
                                     f'{base64.b64encode(v.encode("utf-8")).decode("ascii")}">')
            changed = True
            continue
        elif mime == "text/html":
            clean = clean_html(v)
            changed |= clean != v
            v = clean
        elif mime in ("text/markdown", "text/latex"):
            clean = clean_markdown(v) if mime == "text/markdown" else SCRIPT_URL.sub("blocked:", v)
            changed |= clean != v
            v = clean
        kept[mime] = v
    if not kept:
        kept = {"text/plain": ACTIVE_NOTE}
    out["data"] = kept
    meta = out.get("metadata") if isinstance(out.get("metadata"), dict) else {}
    safe_meta = {}
    for mime, m in meta.items():
        if mime in kept and isinstance(m, dict):
            sm = {k: _safe_number(m.get(k)) for k in ("width", "height") if _safe_number(m.get(k)) is not None}
            if m.get("needs_background") in ("light", "dark"):
                sm["needs_background"] = m["needs_background"]
            if m.get("unconfined") is True:
                sm["unconfined"] = True
            if sm:
                safe_meta[mime] = sm
    if safe_meta != meta:
        changed = True
    out["metadata"] = safe_meta
    if kind == "execute_result" and not isinstance(out.get("execution_count"), (int, type(None))):
        out["execution_count"], changed = None, True
    return changed


TAG = re.compile(r"^[\w.-]{1,64}$")


def neutralize_notebook(nb, *, outputs: bool = True, sources: bool = True, locked_sources: bool = True) -> list[str]:
    """Make a notebook safe to render as HTML (see above); returns the cells changed, by name.

    ``locked_sources=False`` leaves the source of the release's read-only cells alone (grading
    compares them with the gradebook); outputs, widget state and metadata are always cleaned."""
    changed = []
    md = nb.get("metadata", {})
    for key in ("widgets", "jupyter_widgets"):
        md.pop(key, None)
    li = md.get("language_info")
    if li is not None:
        safe = {k: v for k, v in (li.items() if isinstance(li, dict) else [])
                if k in ("name", "version", "mimetype", "file_extension", "pygments_lexer", "nbconvert_exporter")
                and isinstance(v, str) and re.fullmatch(r"[\w.+/ -]{0,64}", v)}
        cm = li.get("codemirror_mode") if isinstance(li, dict) else None
        if isinstance(cm, str) and re.fullmatch(r"[\w-]{0,32}", cm):
            safe["codemirror_mode"] = cm
        elif isinstance(cm, dict) and isinstance(cm.get("name"), str) and re.fullmatch(r"[\w-]{0,32}", cm["name"]):
            safe["codemirror_mode"] = {"name": cm["name"], **({"version": cm["version"]} if isinstance(cm.get("version"), int) else {})}
        safe.setdefault("name", "python")  # required by nbformat
        md["language_info"] = safe
    for index, cell in enumerate(nb.get("cells", [])):
        hit = False
        cmd = cell.get("metadata", {})
        tags = cmd.get("tags")
        if tags is not None and (not isinstance(tags, list) or not all(isinstance(t, str) and TAG.match(t) for t in tags)):
            cmd["tags"] = [t for t in (tags if isinstance(tags, list) else []) if isinstance(t, str) and TAG.match(t)]
            hit = True
        locked = bool(cmd.get("nbgrader", {}).get("locked")) if isinstance(cmd.get("nbgrader"), dict) else False
        if sources and (locked_sources or not locked) and cell.get("cell_type") in ("markdown", "raw") \
                and isinstance(cell.get("source"), str):
            clean = clean_markdown(cell.source)
            if clean != cell.source:
                cell.source, hit = clean, True
        if sources and (locked_sources or not locked) and isinstance(cell.get("attachments"), dict):
            for name, bundle in list(cell["attachments"].items()):
                ok = isinstance(bundle, dict) and re.fullmatch(r"[\w .()-]{1,100}", str(name)) and all(
                    m in ("image/png", "image/jpeg", "image/gif") and isinstance(v, str) and IMAGE_DATA.match(v)
                    for m, v in bundle.items())
                if not ok:
                    cell["attachments"][name] = {"image/png": BLANK_PNG}
                    hit = True
        if sources and (locked_sources or not locked) and cell.get("cell_type") == "markdown":
            # a reference to a missing attachment would stop the feedback's conversion of this notebook
            refs = set(re.findall(r"attachment:([^)\s\"'>]+)", cell.get("source", "")))
            have = cell.get("attachments") if isinstance(cell.get("attachments"), dict) else {}
            for name in sorted(refs - set(have)):
                cell.setdefault("attachments", {})[name] = {"image/png": BLANK_PNG}
                hit = True
        if outputs and cell.get("cell_type") == "code":
            for out in cell.get("outputs", []):
                hit |= _clean_output(out)
        if hit:
            changed.append(_cell_name(cell, index))
    return changed


def active_content(html_text: str) -> tuple[list[str], list[str]]:
    """(what in this HTML could run code — event handlers, script URLs, frames —, the scripts it has).

    Used to check what the kit writes: a page's scripts must be those of its template alone."""
    from html.parser import HTMLParser

    class Scan(HTMLParser):
        def __init__(self):
            super().__init__(convert_charrefs=True)
            self.found, self.scripts, self._script = [], [], None

        def handle_starttag(self, tag, attrs):
            a = dict(attrs)
            if tag == "script":
                self._script = [a.get("src") or ""]
            if tag in ("iframe", "object", "embed", "frame", "frameset", "base", "form", "applet") or \
                    (tag == "meta" and "http-equiv" in a):
                self.found.append(f"<{tag}>")
            for k, v in attrs:
                k, v = k.lower(), v or ""
                if k.startswith("on"):
                    self.found.append(f"<{tag} {k}=…>")
                if k in ("href", "src", "action", "formaction", "xlink:href", "data", "srcdoc", "background", "poster") \
                        and (SCRIPT_URL.search(v) or k == "srcdoc"):
                    self.found.append(f"<{tag} {k}={v[:40]}>")
                if k == "style" and re.search(r"javascript:|expression\(|url\(", v, re.I):
                    self.found.append(f"<{tag} style=…>")

        def handle_data(self, data):
            if self._script is not None:
                self._script.append(data)

        def handle_endtag(self, tag):
            if tag == "script" and self._script is not None:
                self.scripts.append("".join(self._script).strip())
                self._script = None

    s = Scan()
    s.feed(html_text)
    return s.found, s.scripts


class NeutralizeActiveContent(NbGraderPreprocessor):
    """No script, event handler or widget of a student's runs where the notebook is rendered."""

    def preprocess(self, nb, resources):
        neutralize_notebook(nb)
        return nb, resources


EVENT_TEXT = {
    "timeout": ("{cell}: 셀 시간 한도를 넘어 중단했습니다.", "{cell}: interrupted at the time limit of one cell."),
    "notebook-timeout": ("{cell}: 노트북 전체 시간 한도를 넘었습니다. 이후 셀은 실행되지 않았습니다.",
                         "{cell}: the notebook's time limit was reached; later cells did not run."),
    "timeout-unstoppable": ("{cell}: 시간 한도를 넘고 중단 요청을 무시해 커널을 종료했습니다. 이후 셀은 실행되지 않았습니다.",
                            "{cell}: over the time limit and ignored the interrupt; the kernel was stopped and later cells did not run."),
    "kernel-died": ("{cell}: 커널이 멈췄습니다(종료 코드 {code}). 이후 셀은 실행되지 않았습니다.",
                    "{cell}: the kernel died (exit status {code}); later cells did not run."),
    "kernel-misbehaved": ("{cell}: 커널이 잘못된 메시지를 보내 종료했습니다. 이후 셀은 실행되지 않았습니다.",
                          "{cell}: the kernel sent an invalid message and was stopped; later cells did not run."),
    "output-truncated": ("{cell}: 출력이 너무 많아 일부를 버렸습니다.", "{cell}: too much output; output truncated."),
    "active-content": ("실행될 수 있는 출력(스크립트, HTML, 위젯)을 무력화했습니다: {cell}.",
                       "active content (scripts, HTML, widgets) neutralised in: {cell}"),
    "kernel-failed": ("채점용 커널을 시작하지 못했습니다(학생의 잘못이 아닙니다).",
                      "the grading kernel failed to start (not the student's fault)."),
}


def event_text(e: dict) -> tuple[str, str]:
    ko, en = EVENT_TEXT.get(e.get("kind"), ("{kind}", "{kind}"))
    fmt = {"cell": e.get("cell"), "code": e.get("code"), "kind": e.get("kind")}
    return ko.format(**fmt), en.format(**fmt)


def md_escape(text) -> str:
    """Plain text (a note naming a student's file, an error message) as Markdown that shows it as it is."""
    import html as h

    text = h.escape(safe_text(text, oneline=True), quote=False)
    return re.sub(r"([\\`*_{}\[\]()#+!|~])", r"\\\1", text)


class FeedbackHeader(NbGraderPreprocessor):
    """A first cell in both languages: the score, and everything the grader repaired or stopped."""

    def preprocess(self, nb, resources):
        from nbformat.v4 import new_markdown_cell

        g = resources.get("nbgrader", {})
        score, total = g.get("score"), g.get("max_score")
        late = g.get("late_penalty") or 0
        notes = list(nb.metadata.get(INTAKE, {}).get("notes", []))
        notes += [{"ko": ko, "en": en} for ko, en in map(event_text, nb.metadata.get(META, {}).get("events", []))]
        fmt = lambda x: "–" if x is None else f"{x:g}"  # noqa: E731
        lines = [f"## 채점 결과 · Grading result: {fmt(score)} / {fmt(total)}", ""]
        if late:
            lines += [f"- 지각 감점 · late penalty: −{late:g}"]
        lines += ["**한국어** · 각 테스트 셀 아래에 통과 여부와 이유가 있습니다. 숨겨진 테스트의 코드는 보이지 않지만, "
                  "실패 메시지는 무엇이 틀렸는지 알려 줍니다.", "",
                  "**English** · Below each test cell you see whether it passed and why not. Hidden tests' code is not "
                  "shown, but their failure messages say what was wrong.", ""]
        if notes:
            lines += ["### 채점기가 한 일 · What the grader did", ""]
            lines += [f"- {md_escape(n['ko'])}  \n  {md_escape(n['en'])}" for n in notes]
        cell = new_markdown_cell("\n".join(lines))
        cell.metadata["dlbook_feedback"] = True
        nb.cells.insert(0, cell)
        return nb, resources


# --------------------------------------------------------------------------- nbgrader configuration
def autograde_preprocessors() -> list:
    """nbgrader's autograde pipeline: sandboxed (or replayed) execution, and stderr is no failure."""
    from nbgrader.converters.autograde import Autograde
    from nbgrader.preprocessors import SaveAutoGrades

    steps = list(Autograde.class_traits()["autograde_preprocessors"].default())
    steps[steps.index(Execute)] = ReplayExecution if os.environ.get(REPLAY_ENV) else SandboxedExecute
    steps.insert(steps.index(SaveAutoGrades), StderrIsNotFailure)
    return steps


def feedback_preprocessors() -> list:
    from nbconvert.preprocessors import CSSHTMLHeaderPreprocessor
    from nbgrader.preprocessors import GetGrades

    return [GetGrades, ScrubHiddenTests, FeedbackHeader, NeutralizeActiveContent, CSSHTMLHeaderPreprocessor]


def load_settings(course: str | Path) -> dict:
    p = Path(course) / SETTINGS
    return json.loads(p.read_text(encoding="utf-8")) if p.exists() else {}


def configure(c, config_file: str) -> None:
    """Fill an nbgrader config ``c`` from the ``dlbook_course.json`` beside ``config_file``."""
    root = str(Path(config_file).resolve().parent)
    s = load_settings(root)
    limits = sb.Limits.from_dict(s.get("limits"))
    c.CourseDirectory.course_id = s.get("course_id", "dlbook")
    c.CourseDirectory.root = root
    if s.get("db_url"):
        c.CourseDirectory.db_url = s["db_url"]
    if s.get("exchange"):
        c.Exchange.root = s["exchange"]
    c.ClearSolutions.code_stub = {"python": CODE_STUB}
    c.ClearSolutions.text_stub = TEXT_STUB
    c.Autograde.autograde_preprocessors = autograde_preprocessors()
    c.GenerateFeedback.preprocessors = feedback_preprocessors()
    c.HTMLExporter.sanitize_html = True  # feedback and formgrader: nbconvert's own sanitiser on top of ours
    c.Execute.timeout = limits.cell_timeout
    _sandbox_settings(c.SandboxedExecute, limits, s.get("sandbox", True))


def _sandbox_settings(section, limits: "sb.Limits", use_sandbox) -> None:
    """The limits of one submission's run, in a config section of :class:`SandboxedExecute`."""
    section.notebook_timeout = limits.notebook_timeout
    section.memory_limit = str(limits.memory)
    section.disk_limit = str(limits.disk)
    section.output_limit = limits.output
    section.use_sandbox = bool(use_sandbox)


NBGRADER_CONFIG = '''\
# nbgrader configuration of a course made from "Deep Learning from Theory to Practice".
# Its settings (time and memory limits, database URL, exchange) live in dlbook_course.json
# beside this file; `configure` applies them. Lines added below override them.
from dlbook_tools.grading import configure

c = get_config()  # noqa: F821
configure(c, __file__)
'''


def nbgrader_config(root: str = "", course_id: str = "dlbook") -> str:  # the arguments are unused, kept for callers
    return NBGRADER_CONFIG


# --------------------------------------------------------------------------- phase 1 worker
SANITIZE = ("ClearOutput", "DeduplicateIds", "OverwriteKernelspec", "OverwriteCells", "CheckCellMetadata")


def execute_one(spec: dict) -> dict:
    """Sanitize a (repaired) submission exactly as nbgrader autograde does, then execute it sandboxed."""
    import nbformat
    from nbgrader import preprocessors as pp
    from traitlets.config import Config

    t0 = time.monotonic()
    nb = nbformat.read(spec["input"], as_version=4)
    resources = {"nbgrader": {"notebook": spec["notebook"], "assignment": spec["assignment"],
                              "student": spec["student"], "db_url": spec["db_url"]},
                 "metadata": {"path": spec.get("files_dir") or tempfile.gettempdir()}}
    for name in SANITIZE:
        nb, resources = getattr(pp, name)().preprocess(nb, resources)
    limits = sb.Limits.from_dict(spec.get("limits"))
    cfg = Config()
    cfg.SandboxedExecute.timeout = limits.cell_timeout
    _sandbox_settings(cfg.SandboxedExecute, limits, spec.get("sandbox", True))
    cfg.SandboxedExecute.files_dir = spec.get("files_dir") or ""
    cfg.SandboxedExecute.hide_paths = list(spec.get("hide", []))
    cfg.SandboxedExecute.skip_probe = True
    ex = SandboxedExecute(config=cfg)
    with utils.setenv(NBGRADER_EXECUTION="autograde"):
        nb, resources = ex.preprocess(nb, resources)
    Path(spec["output"]).parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, spec["output"])
    return {"status": "ok", "events": nb.metadata.get(META, {}).get("events", []),
            "seconds": round(time.monotonic() - t0, 1)}


def _worker(spec_path: str) -> int:
    spec = json.loads(Path(spec_path).read_text(encoding="utf-8"))
    try:
        result = execute_one(spec)
    except Exception as err:  # recorded for the report, never lost
        result = {"status": "error", "error": f"{type(err).__name__}: {err}", "traceback": traceback.format_exc()}
    Path(spec["result"]).write_text(json.dumps(result, ensure_ascii=False, indent=1), encoding="utf-8")
    return 0 if result["status"] == "ok" else 1


DONE = "DLBOOK-DONE"


def _serve() -> int:
    """Execute the spec files named one per line on stdin; say ``DLBOOK-DONE <path>`` after each."""
    for line in sys.stdin:
        spec = line.strip()
        if spec:
            _worker(spec)
            sys.stdout.write(f"{DONE} {spec}\n")
            sys.stdout.flush()
    return 0


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "worker":
        sys.exit(_worker(sys.argv[2]))
    if len(sys.argv) == 2 and sys.argv[1] == "serve":
        sys.exit(_serve())
    sys.exit("usage: python -m dlbook_tools.grading worker SPEC.json | serve")
