"""An nbgrader course made from this book, and the instructor's kit around it.

``init`` (config, ``source/`` from ``solutions/``, ``release/``, a gradebook with the roster) ·
``release`` · ``collect`` (nbgrader's exchange, or a folder / LMS zip of uploads, every upload kept) ·
``autograde`` (each submission repaired, executed in its own sandbox, in parallel; grades recorded
by nbgrader sequentially) · ``feedback`` (HTML, hidden tests scrubbed) · ``export`` (CSV) ·
``report`` (every student: a score, or the exact reason there is none).

nbgrader stays the engine: the course directory is an ordinary nbgrader course, and plain
``nbgrader`` commands work in it (its ``autograde`` runs the kernel in the same sandbox).
"""
from __future__ import annotations

import csv
import datetime as dt
import hashlib
import itertools
import json
import os
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from . import intake, notebooks, review
from . import sandbox as sb
from .config import ROOT
from .grading import (
    INTAKE,
    META,
    REPLAY_ENV,
    SETTINGS,
    event_text,
    load_settings,
    nbgrader_config,
    neutralize_notebook,
    safe_text,
    secret_lines,
    squash,
    visible_text,
)

WORK = "autograde_work"   # per-assignment scratch of the last `course autograde` (inside the course)
REPORTS = "reports"
UPLOADS = "uploads"


def nbgrader(course: Path, *args: str, check: bool = True, env: dict | None = None) -> subprocess.CompletedProcess:
    """Run ``nbgrader ARGS`` in the course directory."""
    cmd = [sys.executable, "-m", "nbgrader", *args, f"--CourseDirectory.root={course}"]
    full_env = {**os.environ, **(env or {})}
    # nbgrader runs `alembic` (gradebook migrations) from PATH: put this Python's scripts first,
    # so the kit works from an un-activated virtual environment too.
    full_env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), full_env.get("PATH", "")])
    if not env or REPLAY_ENV not in env:
        full_env.pop(REPLAY_ENV, None)
    result = subprocess.run(cmd, cwd=course, capture_output=True, text=True, env=full_env)
    if "Exception while loading config file" in result.stderr:  # nbgrader only logs this and carries on
        raise RuntimeError(f"{course / 'nbgrader_config.py'} failed to load:\n{result.stderr}")
    if check and result.returncode:
        raise RuntimeError(f"{' '.join(args)} failed ({result.returncode}):\n{result.stdout}\n{result.stderr}")
    return result


def exercise_stems(root: Path = ROOT) -> list[str]:
    return sorted(p.stem for p in (root / "solutions").glob("*.ipynb"))


# --------------------------------------------------------------------------- settings and gradebook
def settings(course: Path) -> dict:
    return load_settings(course)


def save_settings(course: Path, s: dict) -> None:
    (Path(course) / SETTINGS).write_text(json.dumps(s, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")


def db_url(course: Path) -> str:
    return settings(course).get("db_url") or f"sqlite:///{Path(course).resolve() / 'gradebook.db'}"


def gradebook(course: Path):
    from nbgrader.api import Gradebook

    return Gradebook(db_url(course), settings(course).get("course_id", "dlbook"))


def init_course(course: Path, stems: list[str] | None = None, *, students=(), roster: Path | None = None,
                db: str | None = None, exchange: str | None = None, limits: dict | None = None,
                course_id: str | None = None, sandbox: bool | None = None, root: Path = ROOT) -> Path:
    """Create (or refresh) an nbgrader course in ``course``: config, source/, release/, students."""
    course = Path(course).resolve()
    course.mkdir(parents=True, exist_ok=True)
    s = settings(course)
    s.setdefault("course_id", "dlbook")
    if course_id:
        s["course_id"] = course_id
    if db:
        s["db_url"] = db
    if exchange:
        s["exchange"] = str(Path(exchange).resolve()) if "://" not in exchange else exchange
    s["limits"] = {**sb.Limits().to_dict(), **s.get("limits", {}), **(limits or {})}
    if sandbox is not None:
        s["sandbox"] = bool(sandbox)
    s.setdefault("sandbox", True)
    save_settings(course, s)
    (course / "nbgrader_config.py").write_text(nbgrader_config(), encoding="utf-8")
    stems = list(stems or exercise_stems(root))
    for stem in stems:
        src = root / "solutions" / f"{stem}.ipynb"
        if not src.exists():
            raise FileNotFoundError(f"no exercise {stem!r}: expected {src}; choose from {exercise_stems(root)}")
        dest = course / "source" / stem
        dest.mkdir(parents=True, exist_ok=True)
        shutil.copy2(src, dest / f"{stem}.ipynb")
    # nbgrader takes seconds to start: when these are all the course's exercises, one run makes them all
    if len(stems) > 1 and set(stems) == {d.name for d in (course / "source").iterdir() if d.is_dir()}:
        nbgrader(course, "generate_assignment", "*", "--force")
    else:
        for stem in stems:
            nbgrader(course, "generate_assignment", stem, "--force")
    rows = [{"id": s_} for s_ in students]
    if roster:
        rows += intake.read_roster(Path(roster))
        if Path(roster).resolve() != (course / "roster.csv").resolve():
            shutil.copy2(roster, course / "roster.csv")
    if rows:
        with gradebook(course) as gb:
            for r in rows:
                gb.update_or_create_student(r["id"], **{k: r[k] for k in ("first_name", "last_name", "email", "lms_user_id")
                                                        if r.get(k)})
    return course


def generated_exercises(stems: list[str], root: Path = ROOT) -> dict[str, str]:
    """The student version of each ``solutions/<stem>.ipynb``, as nbgrader generates it."""
    with tempfile.TemporaryDirectory() as tmp:
        course = init_course(Path(tmp), stems, root=root)
        return {stem: notebooks.nbformat.writes(notebooks.read(course / "release" / stem / f"{stem}.ipynb")) + "\n"
                for stem in stems}


def generate_exercises(stems: list[str] | None = None, *, check: bool = False, root: Path = ROOT) -> list[str]:
    """Write ``exercises/<stem>.ipynb`` for each solution; with ``check``, only report stale ones."""
    stale = []
    for stem, text in generated_exercises(list(stems or exercise_stems(root)), root).items():
        target = root / "exercises" / f"{stem}.ipynb"
        if not target.exists() or target.read_text(encoding="utf-8") != text:
            stale.append(stem)
            if not check:
                target.parent.mkdir(exist_ok=True)
                target.write_text(text, encoding="utf-8")
    return stale


def release(course: Path, stems: list[str], *, exchange: bool = False) -> list[Path]:
    """Regenerate ``release/<stem>/`` (and hand it to nbgrader's exchange). Returns the notebooks to hand out."""
    course = Path(course).resolve()
    out = []
    for stem in stems:
        nbgrader(course, "generate_assignment", stem, "--force")
        if exchange:
            if not settings(course).get("exchange"):
                raise RuntimeError("no exchange configured: `dlbook-tools course init DIR --exchange PATH` first")
            nbgrader(course, "release_assignment", stem, "--force")
        out.append(course / "release" / stem / f"{stem}.ipynb")
    return out


def roster(course: Path) -> list[dict]:
    """The course's students: roster.csv if present, else the gradebook."""
    course = Path(course)
    if (course / "roster.csv").exists():
        return intake.read_roster(course / "roster.csv")
    with gradebook(course) as gb:
        return [{"id": s.id, "first_name": s.first_name or "", "last_name": s.last_name or "",
                 "email": s.email or "", "lms_user_id": s.lms_user_id or "", "extra": {}} for s in gb.students]


def submit(course: Path, stem: str, student: str, notebook: Path) -> None:
    """Place a student's notebook where ``nbgrader autograde`` looks for it."""
    dest = Path(course) / "submitted" / student / stem
    dest.mkdir(parents=True, exist_ok=True)
    shutil.copy2(notebook, dest / f"{stem}.ipynb")


# --------------------------------------------------------------------------- collect
def _now() -> str:
    return dt.datetime.now(dt.timezone.utc).replace(tzinfo=None).isoformat(timespec="seconds")


def _manifest(course: Path, stem: str) -> tuple[Path, dict]:
    path = Path(course) / UPLOADS / stem / "manifest.json"
    if path.exists():
        return path, json.loads(path.read_text(encoding="utf-8"))
    return path, {"assignment": stem, "uploads": []}


def _store(course: Path, stem: str, file: Path, sha: str, name: str, *, move: bool) -> str:
    """Keep ``file`` under ``uploads/<stem>/files/`` by its content (moved, or copied in chunks)."""
    ext = Path(name).suffix.lower()[:10] if Path(name).suffix else ""
    rel = f"{UPLOADS}/{stem}/files/{sha[:20]}{ext}"
    dest = Path(course) / rel
    if dest.exists():
        if move:
            os.unlink(file)
        return rel
    dest.parent.mkdir(parents=True, exist_ok=True)
    if move:
        os.replace(file, dest)
    else:
        tmp = dest.with_suffix(dest.suffix + ".part")
        shutil.copyfile(file, tmp, follow_symlinks=False)
        os.replace(tmp, dest)
    return rel


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(intake.CHUNK), b""):
            h.update(chunk)
    return h.hexdigest()


def _regular_files(folder: Path):
    """(path, None) for each regular file under ``folder``, (path, problem) for anything else; links not followed."""
    for dirpath, dirnames, filenames in os.walk(folder, followlinks=False):
        base = Path(dirpath)
        dirnames.sort()
        for d in list(dirnames):
            if (base / d).is_symlink():
                dirnames.remove(d)
                filenames.append(d)
        for f in sorted(filenames):
            p = base / f
            rel = p.relative_to(folder).as_posix()
            st = os.lstat(p)
            if stat.S_ISREG(st.st_mode):
                yield p, None
            elif stat.S_ISLNK(st.st_mode):
                yield p, intake._link_problem(rel, p)
            else:
                yield p, intake.problem(rel, "not-a-file", "일반 파일이 아니어서 가져오지 않았습니다.", "not a regular file: not collected")


def collect(course: Path, stem: str, source: Path | None = None, *, exchange: bool = False,
            pattern: str | None = None, by: tuple = ()) -> dict:
    """Collect submissions into ``submitted/<student>/<stem>/<stem>.ipynb``.

    Every upload is kept under ``uploads/<stem>/files`` (by content) and listed in
    ``uploads/<stem>/manifest.json`` with the student it was matched to and how; for each
    student the latest notebook (by time, then name) becomes the submission. A notebook
    already in ``submitted/`` is archived the same way before it is replaced, so nothing is
    ever lost or overwritten. Uploads are read one at a time, streamed to disk while hashed:
    memory stays bounded whatever the export's size. What cannot be collected (a symbolic link,
    a corrupt or over-size member …) is a problem of that upload, listed in the manifest
    (``problems``) and shown on its student's row of the report (or as an unmatched row).
    """
    course = Path(course).resolve()
    people = roster(course)
    path, man = _manifest(course, stem)
    man.setdefault("problems", [])
    known = {(u["source"], u["sha256"]) for u in man["uploads"]}
    known_problems = {(p["source"], p["reason"]) for p in man["problems"]}
    batch = _now()
    others = [s for s in (p.name for p in (course / "source").iterdir() if p.is_dir()) if s != stem] \
        if (course / "source").exists() else []
    found_problems: list[dict] = []

    def record(up: intake.Upload, m: intake.Match, origin: str, *, move: bool) -> None:
        if (up.source, up.sha256) in known:
            if move:
                os.unlink(up.path)
            return
        known.add((up.source, up.sha256))
        name = Path(up.source.split("!")[-1]).name
        kind = "notebook" if name.lower().endswith(".ipynb") else "other"
        status, reason = "candidate", ""
        if kind == "other":
            status, reason = "ignored", "not a notebook (.ipynb): kept, never graded"
        elif any(intake.names_stem(name, o) and not intake.names_stem(name, stem) for o in others):
            status, reason = "ignored", "its name is another assignment's"
        if m.student is None:
            status, reason = "unmatched", m.how
        entry = {"source": up.source, "origin": origin, "name": name, "sha256": up.sha256, "size": up.size,
                 "mtime": up.mtime, "stored": _store(course, stem, up.path, up.sha256, name, move=move),
                 "student": m.student, "matched_by": m.how if m.student else None, "status": status, "reason": reason,
                 "collected": batch}
        if m.candidates:
            entry["candidates"] = m.candidates
        if up.member:
            entry["member"] = up.member
        if up.notes:
            entry["notes"] = up.notes
        man["uploads"].append(entry)

    def record_problem(p: dict, origin: str, m: intake.Match | None = None) -> None:
        m = m or intake.identify(p["source"], people, pattern=pattern, by=list(by))
        entry = {**p, "origin": origin, "student": m.student, "matched_by": m.how if m.student else None,
                 "collected": batch}
        if m.candidates:
            entry["candidates"] = m.candidates
        if not m.student:
            entry["unmatched_reason"] = m.how
        found_problems.append(entry)
        if (p["source"], p["reason"]) not in known_problems:
            known_problems.add((p["source"], p["reason"]))
            man["problems"].append(entry)

    if exchange:
        nbgrader(course, "collect", stem, "--update")
    if source is not None:
        origin = Path(source).name
        (course / UPLOADS / stem).mkdir(parents=True, exist_ok=True)
        spool = Path(tempfile.mkdtemp(prefix=".incoming-", dir=course / UPLOADS / stem))
        try:
            for item in intake.iter_uploads(Path(source), spool):
                if isinstance(item, intake.Upload):
                    record(item, intake.identify(item.source, people, pattern=pattern, by=list(by)), origin, move=True)
                else:
                    record_problem(item, origin)
        finally:
            shutil.rmtree(spool, ignore_errors=True)
    # whatever is already in submitted/ (nbgrader's exchange, an earlier collect, a hand copy) is an upload too
    for folder in sorted((course / "submitted").glob(f"*/{stem}")):
        sid = folder.parent.name
        here = intake.Match(sid, "already in submitted/ (exchange or earlier collect)")
        if folder.is_symlink() or folder.parent.is_symlink() or not folder.is_dir():
            record_problem(intake.problem(f"submitted/{sid}/{stem}", "symlink", "심볼릭 링크라서 가져오지 않았습니다.",
                                          "a symbolic link, not a folder: not collected"), "submitted", here)
            continue
        ts_file = folder / "timestamp.txt"
        ts = ts_file.read_text().strip() if ts_file.is_file() and not ts_file.is_symlink() else ""
        mine = {u["sha256"] for u in man["uploads"] if u["student"] == sid}
        for f, trouble in _regular_files(folder):
            rel = f"submitted/{sid}/{stem}/{f.relative_to(folder).as_posix()}"
            if trouble:
                record_problem({**trouble, "source": rel}, "submitted", here)
                continue
            if f.name == "timestamp.txt":
                continue
            sha = _sha256(f)
            if sha in mine:
                continue  # a copy of an upload already kept (an earlier collect put it there)
            try:
                when = _iso(ts) if ts else dt.datetime.fromtimestamp(f.stat().st_mtime, dt.timezone.utc).replace(tzinfo=None).isoformat(timespec="seconds")
            except ValueError:
                when = "0000"
            record(intake.Upload(rel, f, when, sha, f.stat().st_size), here, "submitted", move=False)

    # choose the latest notebook per student, deterministically
    chosen = {}
    for u in man["uploads"]:
        if u["status"] in ("candidate", "chosen", "older") and u["student"]:
            u["status"] = "older"
            best = chosen.get(u["student"])
            if best is None or (u["mtime"], u["source"], u["sha256"]) > (best["mtime"], best["source"], best["sha256"]):
                chosen[u["student"]] = u
    for sid, u in sorted(chosen.items()):
        u["status"] = "chosen"
        dest = course / "submitted" / sid / stem
        target = dest / f"{stem}.ipynb"
        current = _sha256(target) if target.is_file() and not target.is_symlink() and not dest.is_symlink() else None
        if current == u["sha256"] and len([p for p in dest.iterdir() if p.name != "timestamp.txt"]) == 1:
            continue
        if dest.is_symlink():
            dest.unlink()
        elif dest.exists():
            shutil.rmtree(dest)  # everything in it was recorded (and stored) above
        dest.mkdir(parents=True)
        shutil.copy2(course / u["stored"], target)
        (dest / "timestamp.txt").write_text(u["mtime"].replace("T", " ") + "\n")
    for u in man["uploads"]:
        if u["status"] == "chosen" and chosen.get(u["student"]) is not u:
            u["status"] = "older"
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".part")
    tmp.write_text(json.dumps(man, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    os.replace(tmp, path)
    unmatched = [u for u in man["uploads"] if u["status"] == "unmatched"]
    return {"students": sorted(chosen), "uploads": len(man["uploads"]), "unmatched": unmatched,
            "problems": found_problems, "manifest": str(path)}


def _iso(ts: str) -> str:
    from nbgrader.utils import parse_utc

    return parse_utc(ts).replace(tzinfo=None).isoformat(timespec="seconds")


# --------------------------------------------------------------------------- autograde
def _note(kind, ko, en):
    return intake.note(kind, ko, en)


class Worker:
    """One long-lived grading process (``python -m dlbook_tools.grading serve``) that executes
    submissions one after another; it is killed with its sandbox when one takes too long, and
    replaced after ``recycle`` submissions. Each process runs outside the sandbox it starts."""

    recycle = 25

    def __init__(self, work: Path, slot: int):
        self.work, self.slot, self.proc, self.count = work, slot, None, 0

    def _start(self):
        import queue
        import threading

        env = {k: v for k, v in os.environ.items() if k != REPLAY_ENV}
        self.log = open(self.work / "logs" / f"worker-{self.slot}.log", "ab")  # closed in close()
        self.proc = subprocess.Popen([sys.executable, "-m", "dlbook_tools.grading", "serve"], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, stderr=self.log, cwd=self.work, env=env,
                                     start_new_session=True, text=True, bufsize=1)
        self.lines: "queue.Queue[str | None]" = queue.Queue()

        def pump(stream, q):
            for line in stream:
                q.put(line)
            q.put(None)

        threading.Thread(target=pump, args=(self.proc.stdout, self.lines), daemon=True).start()
        self.count = 0

    def stop(self, kill: bool = False):
        if self.proc is None:
            return
        if kill:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        else:
            try:
                self.proc.stdin.close()
                self.proc.wait(timeout=30)
            except (OSError, subprocess.TimeoutExpired):
                os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait()
        self.log.close()
        self.proc = None

    def run(self, spec: dict, timeout: float) -> dict:
        import queue

        from .grading import DONE

        spec_path = self.work / "specs" / f"{spec['student']}.json"
        spec_path.write_text(json.dumps(spec, ensure_ascii=False), encoding="utf-8")
        if self.proc is None or self.proc.poll() is not None or self.count >= self.recycle:
            self.stop()
            self._start()
        self.count += 1
        self.proc.stdin.write(f"{spec_path}\n")
        self.proc.stdin.flush()
        deadline = time.monotonic() + timeout
        while True:
            try:
                line = self.lines.get(timeout=max(0.1, deadline - time.monotonic()))
            except queue.Empty:
                self.stop(kill=True)
                return {"status": "error", "error": f"grading this submission took over {int(timeout)} s; its worker was stopped"}
            if line is None:
                code = self.proc.wait()
                self.stop()
                return {"status": "error", "error": f"the grading worker ended unexpectedly (status {code}); see {self.work / 'logs'}"}
            if line.strip() == f"{DONE} {spec_path}":
                break
        try:
            return json.loads(Path(spec["result"]).read_text(encoding="utf-8"))
        except (OSError, ValueError) as err:
            return {"status": "error", "error": f"no result from the grading worker ({err})"}


def _first_error(cell) -> str | None:
    err = next((o for o in cell.get("outputs", []) if o.get("output_type") == "error"), None)
    if err is None:
        return None
    ev = err.get("evalue", "")
    lines = ev.splitlines()
    start = next((i for i, ln in enumerate(lines) if ln.startswith("[English]")), None)
    if start is None:
        text = lines[0] if lines else ""
    else:  # dlbook.check wraps a message onto indented continuation lines: join them back
        rest = itertools.takewhile(lambda ln: ln.startswith("    "), lines[start + 1:])
        text = " ".join([lines[start][10:], *(ln.strip() for ln in rest)])
    return safe_text(f"{err.get('ename')}: {text}", oneline=True).strip().rstrip(":")[:300]


def _graded_cells(nb_path: Path) -> tuple[list[dict], list[dict]]:
    """Of an autograded notebook: each test cell's points and the error that failed it; answer cells that raised."""
    from nbgrader import utils

    tests, answers = [], []
    if not nb_path.exists():
        return tests, answers
    nb = notebooks.read(nb_path)
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        gid = cell.metadata.get("nbgrader", {}).get("grade_id")
        if utils.is_grade(cell):
            score, total = utils.determine_grade(cell)
            tests.append({"id": gid, "score": score, "max": total, "error": _first_error(cell)})
        elif utils.is_solution(cell) and _first_error(cell):
            answers.append({"id": gid, "error": _first_error(cell)})
    return tests, answers


def _stage(folder: Path, sid: str, stem: str, released, work: Path, e: dict) -> None:
    """Read and repair one submission into ``work/staged/<sid>/``; raises :class:`intake.Refused`."""
    path, notes, _ = intake.find_notebook(folder, stem)
    e["notes"] += notes
    e["file"] = path.name if path else None
    if path is None:
        raise intake.Refused("no-notebook", "제출 폴더에 노트북(.ipynb)이 없습니다.", "the submission folder holds no notebook (.ipynb)")
    nb = intake.read_notebook(path)
    e["notes"] += intake.normalize(nb)
    before = review.snapshot(nb)
    e["notes"] += intake.repair(nb, released)
    e["notes"] += review.metadata_restored(before)   # points, grade ids, flags put back: said, not silent
    e["review"] = review.checker_rebinding(nb)       # for the instructor's eyes only (report)
    inert = neutralize_notebook(nb, locked_sources=False)  # the student's Markdown renders inert
    if inert:
        e["notes"].append(_note("active-content", f"실행될 수 있는 내용(스크립트, HTML)을 무력화했습니다: {', '.join(inert)}.",
                                f"active content (scripts, HTML) neutralised in: {', '.join(inert)}"))
    nb.metadata[INTAKE] = {"notes": e["notes"], "file": path.name}
    nb.metadata.pop(META, None)
    dest = work / "staged" / sid / stem
    dest.mkdir(parents=True)
    notebooks.nbformat.write(nb, str(dest / f"{stem}.ipynb"))
    if (folder / "timestamp.txt").is_file() and not (folder / "timestamp.txt").is_symlink():
        shutil.copy2(folder / "timestamp.txt", dest / "timestamp.txt")
    e["status"] = "staged"


def _unexpected(err: BaseException) -> dict:
    text = f"{type(err).__name__}: {err}"[:300]
    return _note("unreadable", f"이 제출물을 읽거나 고치다가 예상하지 못한 오류가 나서 채점하지 않았습니다({text}). 노트북을 직접 살펴보세요.",
                 f"the kit could not read or repair this submission ({text}); it was not graded: look at the notebook by hand")


def autograde(course: Path, stem: str, student: str | None = None, *, students: list[str] | None = None,
              jobs: int | None = None, limits: dict | None = None, sandbox: bool | None = None,
              log=None) -> dict:
    """Grade every submission of ``stem`` (or the chosen ``students``); returns the report.

    Phase 1, in parallel (``jobs`` workers, default: every core): each submission is read,
    repaired (see :mod:`dlbook_tools.intake`) and executed in its own sandbox. Phase 2, one
    process: ``nbgrader autograde`` records the grades, replaying the executed outputs in
    student order, so the gradebook is the same whatever ``jobs`` was.
    """
    say = log or (lambda *_: None)
    course = Path(course).resolve()
    s = settings(course)
    lim = sb.Limits.from_dict({**s.get("limits", {}), **(limits or {})})
    use_sandbox = s.get("sandbox", True) if sandbox is None else sandbox
    if use_sandbox:
        reason = sb.unavailable()
        if reason:
            raise RuntimeError(f"cannot grade safely: {reason}. (To grade without any isolation, pass --no-sandbox.)")
    release_nb = course / "release" / stem / f"{stem}.ipynb"
    if not release_nb.exists():
        nbgrader(course, "generate_assignment", stem, "--force")
    released = notebooks.read(release_nb)
    wanted = set(students or []) | ({student} if student else set())
    folders = sorted(d for d in (course / "submitted").glob(f"*/{stem}") if d.is_dir())
    folders = [d for d in folders if not wanted or d.parent.name in wanted]
    work = course / WORK / stem
    if work.exists():
        shutil.rmtree(work)
    for sub in ("staged", "executed", "specs", "logs", "results"):
        (work / sub).mkdir(parents=True)
    entries: dict[str, dict] = {}

    # ---- intake
    for folder in folders:
        sid = folder.parent.name
        e = entries[sid] = {"student": sid, "status": None, "notes": [], "events": []}
        try:
            _stage(folder, sid, stem, released, work, e)
        except intake.Refused as r:
            e.update(status="refused", reason=r.as_dict())
        except Exception as err:  # one submission the kit cannot handle must not stop the batch
            shutil.rmtree(work / "staged" / sid, ignore_errors=True)
            e.update(status="refused", reason=_unexpected(err))

    # ---- phase 1: execute, in parallel, one sandbox per submission
    url = db_url(course)
    from nbgrader.api import Gradebook

    Gradebook(url).close()  # creates nbgrader's default course row now, not concurrently in the workers
    staged = [sid for sid, e in sorted(entries.items()) if e["status"] == "staged"]
    hide = [str(course), str(ROOT / "solutions"), str(work)]
    specs = [{"student": sid, "assignment": stem, "notebook": stem, "db_url": url,
              "input": str(work / "staged" / sid / stem / f"{stem}.ipynb"),
              "output": str(work / "executed" / sid / f"{stem}.ipynb"),
              "result": str(work / "results" / f"{sid}.json"),
              "files_dir": str(course / "release" / stem), "hide": hide,
              "limits": lim.to_dict(), "sandbox": bool(use_sandbox)} for sid in staged]
    jobs = max(1, int(jobs or os.cpu_count() or 1))
    t0 = time.monotonic()
    say(f"executing {len(specs)} submission(s) of {stem} with {jobs} worker(s)…")
    import queue

    free: "queue.Queue[Worker]" = queue.Queue()
    workers = [Worker(work, n) for n in range(min(jobs, max(1, len(specs))))]
    for w in workers:
        free.put(w)

    def grade_one(sp):
        w = free.get()
        try:
            return w.run(sp, lim.notebook_timeout + 180)
        finally:
            free.put(w)

    try:
        with ThreadPoolExecutor(max_workers=len(workers)) as pool:
            futures = {sp["student"]: pool.submit(grade_one, sp) for sp in specs}
            results = {sid: f.result() for sid, f in futures.items()}
    finally:
        for w in workers:
            w.stop()
    for sid, res in results.items():
        e = entries[sid]
        if res.get("status") == "ok":
            e["events"] = res.get("events", [])
            e["seconds"] = res.get("seconds")
            e["status"] = "executed"
        else:
            e.update(status="error", reason=_note("grader-error", f"채점 중 오류가 났습니다(학생의 잘못이 아닙니다): {res.get('error')}",
                                                  f"grading failed (not the student's fault): {res.get('error')}"))
            shutil.rmtree(work / "staged" / sid, ignore_errors=True)
    phase1 = time.monotonic() - t0

    # ---- phase 2: nbgrader records the grades, sequentially, replaying the outputs
    t1 = time.monotonic()
    done = [sid for sid, e in sorted(entries.items()) if e["status"] == "executed"]
    log_text = ""
    if done:
        r = nbgrader(course, "autograde", stem, "--force",
                     f"--CourseDirectory.submitted_directory={(work / 'staged').relative_to(course).as_posix()}",
                     check=False, env={REPLAY_ENV: str(work / "executed")})
        (work / "nbgrader-autograde.log").write_text(r.stdout + r.stderr, encoding="utf-8")
        log_text = r.stdout + r.stderr
    phase2 = time.monotonic() - t1
    from nbgrader.api import MissingEntry

    with gradebook(course) as gb:
        for sid in done:
            e = entries[sid]
            auto = course / "autograded" / sid / stem / f"{stem}.ipynb"
            try:
                sub = gb.find_submission(stem, sid)
                if not auto.exists():
                    raise MissingEntry()
                tests, answers = _graded_cells(auto)
                e.update(status="graded", score=sub.score, max_score=sub.max_score,
                         late_penalty=sub.late_submission_penalty or 0, tests=tests, answer_errors=answers)
            except MissingEntry:
                lines = [ln for ln in log_text.splitlines() if sid in ln and ("ERROR" in ln or "rror" in ln)]
                e.update(status="error", reason=_note("grader-error", "nbgrader가 점수를 기록하지 못했습니다.",
                                                      "nbgrader could not record the grades: " + (" | ".join(lines)[-600:] or "see autograde_work log")))
    rep = _write_report(course, stem, entries, graded_now=set(entries),
                        timing={"phase1_s": round(phase1, 1), "phase2_s": round(phase2, 1), "jobs": jobs,
                                "limits": lim.to_dict(), "sandbox": bool(use_sandbox)})
    say(f"{stem}: {sum(e['status'] == 'graded' for e in entries.values())} graded, "
        f"{sum(e['status'] != 'graded' for e in entries.values())} not graded "
        f"(execution {phase1:.0f} s, recording {phase2:.0f} s)")
    return rep


# --------------------------------------------------------------------------- report
def _message(e: dict) -> tuple[str, str]:
    """One line per language: the score's story, or why there is no score."""
    ko, en = [], []
    if e.get("reason"):
        ko.append(e["reason"]["ko"])
        en.append(e["reason"]["en"])
    for n in e.get("collect", []) + e.get("notes", []):
        ko.append(n["ko"])
        en.append(n["en"])
    for ev in e.get("events", []):
        k, g = event_text(ev)
        ko.append(k)
        en.append(g)
    broken = e.get("answer_errors", [])
    if broken:
        en.append("errors in answer cells: " + "; ".join(f"{a['id']} ({a['error']})" for a in broken))
        ko.append("오류가 난 답 셀: " + ", ".join(f"{a['id']} ({a['error'].split(':')[0]})" for a in broken))
    failed = [t for t in e.get("tests", []) if t["score"] < t["max"]]
    if failed:
        en.append("failed: " + "; ".join(f"{t['id']} ({t['error'] or 'no output'})" for t in failed))
        ko.append("실패한 테스트: " + ", ".join(t["id"] for t in failed))
    if e.get("review"):
        k, g = review.flag_text(e["review"])
        ko.append(k)
        en.append(g)
    fb = e.get("feedback") or {}
    if fb.get("status") == "withheld":
        ko.append(f"피드백 보류: {fb.get('reason_ko', '')}")
        en.append(f"feedback withheld: {fb.get('reason', '')}")
    return safe_text(" · ".join(ko), oneline=True), safe_text(" · ".join(en), oneline=True)


def _write_report(course: Path, stem: str, entries: dict, graded_now: set, timing: dict) -> dict:
    course = Path(course)
    path = course / REPORTS / f"{stem}.json"
    old = json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
    rows = {r["student"]: r for r in old.get("students", [])}
    for sid in graded_now:
        rows[sid] = entries[sid]
    for e in rows.values():
        e["message_ko"], e["message"] = _message(e)
    rep = {"assignment": stem, "updated": _now(), "timing": timing, "students": [rows[k] for k in sorted(rows)]}
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(rep, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    return rep


def report(course: Path, stem: str) -> list[dict]:
    """Every student of the roster (and anyone who submitted): status, score, and why."""
    course = Path(course).resolve()
    path = course / REPORTS / f"{stem}.json"
    rep = json.loads(path.read_text(encoding="utf-8")) if path.exists() else {"students": []}
    rows = {r["student"]: dict(r) for r in rep["students"]}
    ids = [r["id"] for r in roster(course)]
    submitted = {d.parent.name for d in (course / "submitted").glob(f"*/{stem}") if d.is_dir()}
    from nbgrader.api import MissingEntry

    collected, strays = _collect_notes(course, stem)
    with gradebook(course) as gb:
        for sid in sorted(set(ids) | set(rows) | submitted):
            r = rows.setdefault(sid, {"student": sid, "notes": [], "events": []})
            r["collect"] = collected.get(sid, [])
            if r.get("status") is None:
                if sid in submitted:
                    r["status"] = "not-graded"
                    r["reason"] = _note("not-graded", "제출물이 있지만 아직 채점하지 않았습니다.",
                                        "submitted, not graded yet (run `dlbook-tools course autograde`)")
                else:
                    r["status"] = "missing"
                    r["reason"] = _note("missing", "제출물이 없습니다.", "no submission collected")
            try:
                sub = gb.find_submission(stem, sid)
                r["gradebook_score"], r["max_score"] = sub.score, sub.max_score
                if r["status"] != "graded":
                    r["stale_grade"] = True  # an earlier grade is still in the gradebook
            except MissingEntry:
                if r["status"] == "graded":
                    r["status"] = "error"
                    r["reason"] = _note("grader-error", "성적부에 점수가 없습니다.", "no grade in the gradebook")
            r["message_ko"], r["message"] = _message(r)
            if r.get("stale_grade"):
                r["message"] += f" (the gradebook still holds an earlier score: {r['gradebook_score']:g})"
                r["message_ko"] += f" (성적부에는 예전 점수 {r['gradebook_score']:g}점이 남아 있습니다)"
    rows.update(strays)
    return [rows[k] for k in sorted(rows)]


def _collect_notes(course: Path, stem: str) -> tuple[dict[str, list[dict]], dict[str, dict]]:
    """From the manifest: notes for students' rows (an upload of theirs not collected, an upload that
    may be theirs given to no one, a path made safe) and a row for each upload no student could be found for."""
    manifest = Path(course) / UPLOADS / stem / "manifest.json"
    notes: dict[str, list[dict]] = {}
    strays: dict[str, dict] = {}
    if not manifest.exists():
        return notes, strays
    man = json.loads(manifest.read_text(encoding="utf-8"))

    def add(sid, kind, ko, en):
        if sid and _note(kind, ko, en) not in notes.setdefault(sid, []):
            notes[sid].append(_note(kind, ko, en))

    for u in man["uploads"]:
        if u["status"] == "unmatched":
            key = f"(unmatched) {u['source']}"
            strays[key] = {"student": key, "status": "unmatched", "notes": [], "events": [],
                           "message": f"upload not matched to a student: {u['reason']} — kept as {u['stored']}",
                           "message_ko": f"학생을 찾지 못한 제출물: {u['reason']} — {u['stored']}에 보관"}
            for sid in u.get("candidates", []):
                add(sid, "collect-ambiguous", f"제출물 '{u['source']}'은(는) 누구의 것인지 분명하지 않아 아무에게도 주지 않았습니다: {u['reason']}",
                    f"upload '{u['source']}' was given to no one: {u['reason']}")
        for n in u.get("notes", []):
            add(u.get("student"), n["kind"], f"제출물 '{u['source']}': {n['ko']}", f"upload '{u['source']}': {n['en']}")
    for p in man.get("problems", []):
        ko = f"제출물 '{p['source']}'을(를) 가져오지 못했습니다: {p['reason_ko']}"
        en = f"upload '{p['source']}' not collected: {p['reason']}"
        if p.get("student"):
            add(p["student"], "collect-" + p["kind"], ko, en)
            continue
        for sid in p.get("candidates", []):
            add(sid, "collect-" + p["kind"], ko, en)
        key = f"(unmatched) {p['source']}"
        why = p.get("unmatched_reason", "")
        strays[key] = {"student": key, "status": "unmatched", "notes": [], "events": [],
                       "message": f"{en}; no student found for it: {why}", "message_ko": f"{ko} (학생을 찾지 못했습니다: {why})"}
    return notes, strays


def format_report(rows: list[dict], lang: str = "en") -> str:
    lines = []
    w = max([len(r["student"]) for r in rows] + [7])
    for r in rows:
        score = f"{r['score']:g}/{r['max_score']:g}" if r.get("status") == "graded" else "–"
        msg = safe_text(r.get("message_ko" if lang == "ko" else "message", ""), oneline=True)
        lines.append(f"{safe_text(r['student'], oneline=True):<{w}}  {r['status']:<10}  {score:>9}  {msg}")
    return "\n".join(lines)


# --------------------------------------------------------------------------- feedback and export
_visible_text = visible_text  # what the leak check reads of an HTML page (kept for callers)


class FeedbackFiles(list):
    """The feedback files written (a list of paths), and ``withheld``: the ones removed, with why."""

    withheld: list


def _own_text(nb) -> str:
    """What the student wrote: the answer cells and the cells they added (not the release's fixed cells)."""
    return squash("\n".join(c.get("source", "") for c in nb.cells if review._student_cell(c)))


def feedback(course: Path, stem: str, log=None) -> FeedbackFiles:
    """HTML feedback per student (``feedback/<student>/<stem>/``): score and notes in both languages,
    hidden tests' source removed from cells and outputs, active content neutralised — and each HTML
    file checked afterwards for any hidden test's line (compared with whitespace normalised, as the
    scrubber compares), except lines the student's own cells contain. A file that fails the check
    is withheld (moved to ``autograde_work/<stem>/feedback-withheld/``), reported, and the others go on."""
    course = Path(course).resolve()
    nbgrader(course, "generate_feedback", stem, "--force")
    return check_feedback(course, stem, log=log)


def check_feedback(course: Path, stem: str, log=None) -> FeedbackFiles:
    """Check every feedback file of ``stem`` for hidden tests' lines; withhold (move) the ones that
    show any, record both kinds in the stored report, return the files kept (``.withheld``: the others)."""
    say = log or (lambda *_: None)
    course = Path(course).resolve()
    secrets = secret_lines(c.source for c in notebooks.read(course / "source" / stem / f"{stem}.ipynb").cells)
    files = FeedbackFiles()
    files.withheld = []
    status: dict[str, dict] = {}
    for f in sorted((course / "feedback").glob(f"*/{stem}/*.html")):
        sid = f.parts[-3]
        try:
            auto = course / "autograded" / sid / stem / f"{stem}.ipynb"
            own = _own_text(notebooks.read(auto)) if auto.is_file() else ""
            text = visible_text(f.read_text(encoding="utf-8", errors="replace"))
            leaked = [x for x in secrets if x in text and x not in own]
        except Exception as err:  # one unreadable file is withheld, never stops the others
            leaked = [f"(the file could not be checked: {type(err).__name__}: {err})"]
        if leaked:
            keep = course / WORK / stem / "feedback-withheld" / sid / f.name
            keep.parent.mkdir(parents=True, exist_ok=True)
            os.replace(f, keep)
            shown = safe_text(leaked[0], oneline=True)[:80]
            why = f"the HTML shows a hidden test's line ({shown!r}); kept for you in {keep}"
            files.withheld.append({"student": sid, "file": str(keep), "reason": why})
            status[sid] = {"status": "withheld", "reason": why,
                           "reason_ko": f"HTML에 숨겨진 테스트의 줄이 보여 학생에게 주지 않았습니다({shown!r}). 파일: {keep}"}
            say(f"feedback withheld: {sid} — {why}")
        else:
            files.append(f)
            status[sid] = {"status": "written", "file": str(f)}
    _record_feedback(course, stem, status)
    return files


def _record_feedback(course: Path, stem: str, status: dict[str, dict]) -> None:
    """Note in the stored report which feedback was written and which withheld (shown by `course report`)."""
    path = Path(course) / REPORTS / f"{stem}.json"
    if not path.exists():
        return
    rep = json.loads(path.read_text(encoding="utf-8"))
    for r in rep.get("students", []):
        if r["student"] in status:
            r["feedback"] = status[r["student"]]
        else:
            r.pop("feedback", None)
        r["message_ko"], r["message"] = _message(r)
    tmp = path.with_suffix(".part")
    tmp.write_text(json.dumps(rep, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    os.replace(tmp, path)


def scores(course: Path, stem: str) -> dict[str, tuple[float, float]]:
    """{student: (score, max_score)} for one assignment, read from the gradebook."""
    with gradebook(course) as gb:
        return {sub.student_id: (sub.score, sub.max_score) for sub in gb.assignment_submissions(stem)}


def export(course: Path, to: Path | None = None) -> Path:
    """One CSV row per student and assignment: score (from the gradebook), status and reason."""
    course = Path(course).resolve()
    to = Path(to) if to else course / "grades.csv"
    with gradebook(course) as gb:
        stems = [a.name for a in gb.assignments]
        people = {r["id"]: r for r in roster(course)}
        for st in gb.students:
            people.setdefault(st.id, {"id": st.id, "first_name": st.first_name or "", "last_name": st.last_name or "",
                                      "email": st.email or ""})
    fields = ["student_id", "first_name", "last_name", "email", "assignment", "score", "max_score",
              "late_penalty", "status", "reason"]
    rows = []
    for stem in stems:
        for r in report(course, stem):
            if r["status"] == "unmatched":
                continue
            p = people.get(r["student"], {})
            graded = r["status"] == "graded"
            rows.append({"student_id": r["student"], "first_name": p.get("first_name", ""), "last_name": p.get("last_name", ""),
                         "email": p.get("email", ""), "assignment": stem,
                         "score": f"{r['score']:g}" if graded else "", "max_score": f"{r.get('max_score', 0) or 0:g}" if r.get("max_score") is not None else "",
                         "late_penalty": f"{r.get('late_penalty', 0) or 0:g}" if graded else "",
                         "status": r["status"], "reason": r.get("message", "")})
    to.parent.mkdir(parents=True, exist_ok=True)
    with open(to, "w", newline="", encoding="utf-8-sig") as fh:
        w = csv.DictWriter(fh, fieldnames=fields)
        w.writeheader()
        w.writerows({k: safe_text(v, oneline=True) for k, v in row.items()} for row in rows)  # no terminal escapes
    return to
