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
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from . import intake, notebooks
from . import sandbox as sb
from .config import ROOT
from .grading import INTAKE, META, REPLAY_ENV, SETTINGS, event_text, hidden_lines, load_settings, nbgrader_config

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
    for stem in stems or exercise_stems(root):
        src = root / "solutions" / f"{stem}.ipynb"
        if not src.exists():
            raise FileNotFoundError(f"no exercise {stem!r}: expected {src}; choose from {exercise_stems(root)}")
        dest = course / "source" / stem
        dest.mkdir(parents=True, exist_ok=True)
        shutil.copy2(src, dest / f"{stem}.ipynb")
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


def _store(course: Path, stem: str, data: bytes, name: str) -> str:
    sha = hashlib.sha256(data).hexdigest()
    ext = Path(name).suffix.lower()[:10] if Path(name).suffix else ""
    rel = f"{UPLOADS}/{stem}/files/{sha[:20]}{ext}"
    dest = Path(course) / rel
    if not dest.exists():
        dest.parent.mkdir(parents=True, exist_ok=True)
        tmp = dest.with_suffix(dest.suffix + ".part")
        tmp.write_bytes(data)
        os.replace(tmp, dest)
    return rel


def collect(course: Path, stem: str, source: Path | None = None, *, exchange: bool = False,
            pattern: str | None = None, by: tuple = ()) -> dict:
    """Collect submissions into ``submitted/<student>/<stem>/<stem>.ipynb``.

    Every upload is kept under ``uploads/<stem>/files`` (by content) and listed in
    ``uploads/<stem>/manifest.json`` with the student it was matched to and how; for each
    student the latest notebook (by time, then name) becomes the submission. A notebook
    already in ``submitted/`` is archived the same way before it is replaced, so nothing is
    ever lost or overwritten.
    """
    course = Path(course).resolve()
    people = roster(course)
    path, man = _manifest(course, stem)
    known = {(u["source"], u["sha256"]) for u in man["uploads"]}
    batch = _now()
    others = [s for s in (p.name for p in (course / "source").iterdir() if p.is_dir()) if s != stem] \
        if (course / "source").exists() else []

    def record(source: str, data: bytes, mtime: str, student: str | None, how: str, origin: str) -> None:
        sha = hashlib.sha256(data).hexdigest()
        if (source, sha) in known:
            return
        known.add((source, sha))
        name = Path(source.split("!")[-1]).name
        kind = "notebook" if name.lower().endswith(".ipynb") else "other"
        status, reason = "candidate", ""
        if kind == "other":
            status, reason = "ignored", "not a notebook (.ipynb): kept, never graded"
        elif any(intake.names_stem(name, o) and not intake.names_stem(name, stem) for o in others):
            status, reason = "ignored", "its name is another assignment's"
        if student is None:
            status, reason = "unmatched", how
        man["uploads"].append({"source": source, "origin": origin, "name": name, "sha256": sha, "size": len(data),
                               "mtime": mtime, "stored": _store(course, stem, data, name), "student": student,
                               "matched_by": how if student else None, "status": status, "reason": reason,
                               "collected": batch})

    if exchange:
        nbgrader(course, "collect", stem, "--update")
    problems = []
    if source is not None:
        uploads, problems = intake.read_uploads(Path(source))
        origin = Path(source).name
        for u in uploads:
            student, how = intake.match_student(u.source, people, pattern=pattern, by=list(by))
            record(u.source, u.data, u.mtime, student, how, origin)
    # whatever is already in submitted/ (nbgrader's exchange, an earlier collect, a hand copy) is an upload too
    for folder in sorted((course / "submitted").glob(f"*/{stem}")):
        sid = folder.parent.name
        ts_file = folder / "timestamp.txt"
        ts = ts_file.read_text().strip() if ts_file.exists() else ""
        mine = {u["sha256"] for u in man["uploads"] if u["student"] == sid}
        for f in sorted(p for p in folder.rglob("*") if p.is_file() and p.name != "timestamp.txt"):
            if hashlib.sha256(f.read_bytes()).hexdigest() in mine:
                continue  # a copy of an upload already kept (an earlier collect put it there)
            try:
                when = _iso(ts) if ts else dt.datetime.fromtimestamp(f.stat().st_mtime, dt.timezone.utc).replace(tzinfo=None).isoformat(timespec="seconds")
            except ValueError:
                when = "0000"
            record(f"submitted/{sid}/{stem}/{f.relative_to(folder).as_posix()}", f.read_bytes(), when, sid,
                   "already in submitted/ (exchange or earlier collect)", "submitted")

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
        current = target.read_bytes() if target.exists() else None
        if current is not None and hashlib.sha256(current).hexdigest() == u["sha256"] \
                and len([p for p in dest.iterdir() if p.name != "timestamp.txt"]) == 1:
            continue
        if dest.exists():
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
            "problems": problems, "manifest": str(path)}


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
        self.log = open(self.work / "logs" / f"worker-{self.slot}.log", "ab")  # noqa: SIM115
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
    en = [ln for ln in ev.splitlines() if ln.startswith("[English]")]
    text = en[0][10:] if en else (ev.splitlines()[0] if ev else "")
    return f"{err.get('ename')}: {text}".strip().rstrip(":")[:300]


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
        path, notes, _ = intake.find_notebook(folder, stem)
        e["notes"] += notes
        e["file"] = path.name if path else None
        if path is None:
            e.update(status="refused", reason=_note("no-notebook", "제출 폴더에 노트북(.ipynb)이 없습니다.",
                                                    "the submission folder holds no notebook (.ipynb)"))
            continue
        try:
            nb = intake.read_notebook(path)
            e["notes"] += intake.normalize(nb)
            e["notes"] += intake.repair(nb, released)
        except intake.Refused as r:
            e.update(status="refused", reason=r.as_dict())
            continue
        nb.metadata[INTAKE] = {"notes": e["notes"], "file": path.name}
        nb.metadata.pop(META, None)
        dest = work / "staged" / sid / stem
        dest.mkdir(parents=True)
        notebooks.nbformat.write(nb, str(dest / f"{stem}.ipynb"))
        if (folder / "timestamp.txt").exists():
            shutil.copy2(folder / "timestamp.txt", dest / "timestamp.txt")
        e["status"] = "staged"

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
    for n in e.get("notes", []):
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
    return " · ".join(ko), " · ".join(en)


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

    with gradebook(course) as gb:
        for sid in sorted(set(ids) | set(rows) | submitted):
            r = rows.setdefault(sid, {"student": sid, "notes": [], "events": []})
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
    manifest = course / UPLOADS / stem / "manifest.json"
    if manifest.exists():
        for u in json.loads(manifest.read_text(encoding="utf-8"))["uploads"]:
            if u["status"] == "unmatched":
                key = f"(unmatched) {u['source']}"
                rows[key] = {"student": key, "status": "unmatched", "notes": [], "events": [],
                             "message": f"upload not matched to a student: {u['reason']} — kept as {u['stored']}",
                             "message_ko": f"학생을 찾지 못한 제출물: {u['reason']} — {u['stored']}에 보관"}
    return [rows[k] for k in sorted(rows)]


def format_report(rows: list[dict], lang: str = "en") -> str:
    lines = []
    w = max([len(r["student"]) for r in rows] + [7])
    for r in rows:
        score = f"{r['score']:g}/{r['max_score']:g}" if r.get("status") == "graded" else "–"
        msg = r.get("message_ko" if lang == "ko" else "message", "")
        lines.append(f"{r['student']:<{w}}  {r['status']:<10}  {score:>9}  {msg}")
    return "\n".join(lines)


# --------------------------------------------------------------------------- feedback and export
def _visible_text(html: str) -> str:
    import html as h
    import re

    return " ".join(h.unescape(re.sub(r"<[^>]+>", "", html)).split())


def feedback(course: Path, stem: str) -> list[Path]:
    """HTML feedback per student (``feedback/<student>/<stem>/``): score and notes in both languages,
    hidden tests' source removed from cells and tracebacks — checked again in the HTML itself."""
    course = Path(course).resolve()
    nbgrader(course, "generate_feedback", stem, "--force")
    secrets = [" ".join(x.split()) for x in hidden_lines("\n".join(
        c.source for c in notebooks.read(course / "source" / stem / f"{stem}.ipynb").cells))]
    files = sorted((course / "feedback").glob(f"*/{stem}/*.html"))
    for f in files:
        text = _visible_text(f.read_text(encoding="utf-8"))
        leaked = [x for x in secrets if x in text]
        if leaked:
            f.unlink()
            raise RuntimeError(f"{f}: hidden test source would leak ({leaked[0]!r}); file removed")
    return files


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
        w.writerows(rows)
    return to
