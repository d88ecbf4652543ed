"""Submissions as students really hand them in, made gradable or refused with a clear reason.

* :func:`read_notebook` — empty file, invalid JSON, not a notebook, too large → :class:`Refused`.
* :func:`normalize` — cells made well-formed, duplicated or missing cell ids renumbered.
* :func:`repair` — every cell matched to the released notebook: by nbgrader ``grade_id``, else
  by the content of read-only cells, else by position between them; read-only cells restored,
  deleted ones re-added, flipped cell types put back. Each repair is a bilingual note.
* :func:`find_notebook` — which file in a submission folder is the notebook (renamed copies).
* :func:`read_roster`, :func:`read_uploads`, :func:`match_student` — a folder or LMS zip of
  uploads mapped to the roster.
"""
from __future__ import annotations

import copy
import csv
import datetime as dt
import hashlib
import json
import re
import zipfile
from dataclasses import dataclass
from pathlib import Path

import nbformat

MAX_NOTEBOOK = 100 << 20   # bytes: larger files are refused, not parsed
MAX_UPLOAD = 200 << 20     # bytes per member of an upload zip
ID_OK = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")


class Refused(Exception):
    """A submission that cannot be graded; ``kind`` is short, ``ko``/``en`` explain it."""

    def __init__(self, kind: str, ko: str, en: str):
        super().__init__(en)
        self.kind, self.ko, self.en = kind, ko, en

    def as_dict(self) -> dict:
        return {"kind": self.kind, "ko": self.ko, "en": self.en}


def note(kind: str, ko: str, en: str) -> dict:
    return {"kind": kind, "ko": ko, "en": en}


# --------------------------------------------------------------------------- reading
def read_notebook(path: Path) -> nbformat.NotebookNode:
    path = Path(path)
    size = path.stat().st_size
    if size > MAX_NOTEBOOK:
        raise Refused("too-large", f"파일이 너무 큽니다({size:,}바이트). 출력을 지우고 다시 제출하세요.",
                      f"the file is too large ({size:,} bytes); clear the outputs and submit again")
    data = path.read_bytes()
    if not data.strip():
        raise Refused("empty", "빈 파일입니다(내용이 없습니다). 노트북을 저장한 뒤 다시 제출하세요.",
                      "the file is empty; save the notebook and submit it again")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        raise Refused("not-utf8", f"UTF-8 텍스트가 아닙니다(바이트 {err.start}). 노트북 파일(.ipynb)이 맞는지 확인하세요.",
                      f"not UTF-8 text (byte {err.start}); is this really a .ipynb notebook?") from None
    try:
        obj = json.loads(text)
    except json.JSONDecodeError as err:
        raise Refused("invalid-json", f"JSON 형식이 깨졌습니다({err.lineno}행 {err.colno}열: {err.msg}). "
                      "파일이 잘렸거나 편집기로 고친 것 같습니다. 노트북을 다시 내려받아 제출하세요.",
                      f"invalid JSON (line {err.lineno}, column {err.colno}: {err.msg}); the file was cut off or "
                      "edited by hand; download the notebook again and resubmit") from None
    if not isinstance(obj, dict) or not ("cells" in obj or "worksheets" in obj):
        raise Refused("not-a-notebook", "JSON이지만 주피터 노트북이 아닙니다(cells가 없습니다).",
                      "valid JSON but not a Jupyter notebook (it has no cells)")
    try:
        if "cells" not in obj:  # nbformat 3
            nb = nbformat.reads(text, as_version=4)
        else:
            obj.setdefault("nbformat", 4)
            obj.setdefault("nbformat_minor", 4)
            obj.setdefault("metadata", {})
            nb = nbformat.from_dict(obj)
    except Exception as err:  # noqa: BLE001
        raise Refused("not-a-notebook", f"노트북 형식을 읽을 수 없습니다: {err}", f"cannot read the notebook: {err}") from None
    return nb


def _text(src) -> str:
    if isinstance(src, list):
        return "".join(str(s) for s in src)
    return "" if src is None else str(src)


def normalize(nb) -> list[dict]:
    """Make every cell well-formed (nbformat 4.5) and every cell id unique; returns notes."""
    notes = []
    if not isinstance(nb.get("metadata"), dict):
        nb["metadata"] = nbformat.NotebookNode()
    cells = []
    for cell in nb.get("cells") or []:
        if not isinstance(cell, dict):
            continue
        cell = nbformat.from_dict(cell)
        ctype = cell.get("cell_type")
        if ctype not in ("code", "markdown", "raw"):
            ctype = "raw"
        md = cell.get("metadata") if isinstance(cell.get("metadata"), dict) else {}
        new = {"code": nbformat.v4.new_code_cell, "markdown": nbformat.v4.new_markdown_cell,
               "raw": nbformat.v4.new_raw_cell}[ctype](_text(cell.get("source")))
        new.metadata = nbformat.from_dict(md)
        if ctype == "code":
            new.outputs = cell.get("outputs") if isinstance(cell.get("outputs"), list) else []
            new.execution_count = None
        if "attachments" in cell and ctype != "code":
            new["attachments"] = cell["attachments"]
        new["id"] = cell.get("id") if isinstance(cell.get("id"), str) else None
        cells.append(new)
    nb["cells"] = cells
    nb["nbformat"], nb["nbformat_minor"] = 4, 5
    seen, fixed = set(), 0
    for i, cell in enumerate(cells):
        cid = cell.get("id")
        if not cid or not ID_OK.match(cid) or cid in seen:
            if cid:
                fixed += 1
            n, cid = 0, f"cell-{i}"
            while cid in seen:
                n += 1
                cid = f"cell-{i}-{n}"
            cell["id"] = cid
        seen.add(cid)
    if fixed:
        notes.append(note("duplicate-ids", f"중복되거나 잘못된 셀 id {fixed}개를 새로 매겼습니다(셀 복사·분할).",
                          f"renumbered {fixed} duplicated or invalid cell id(s) (copied or split cells)"))
    return notes


# --------------------------------------------------------------------------- repair
def _norm(src: str) -> str:
    return "\n".join(line.rstrip() for line in _text(src).replace("\r\n", "\n").strip().splitlines())


def _nbg(cell) -> dict:
    md = cell.get("metadata", {}).get("nbgrader")
    return md if isinstance(md, dict) else {}


def _fixed(cell) -> bool:
    """A released cell the student may not change: a test, a task description, the setup."""
    m = _nbg(cell)
    return bool(m) and not m.get("solution") and bool(m.get("locked") or m.get("grade") or m.get("task"))


def _set_type(cell, ctype: str) -> None:
    if cell.cell_type == ctype:
        return
    cell.cell_type = ctype
    if ctype == "code":
        cell.outputs, cell.execution_count = [], None
        cell.pop("attachments", None)
    else:
        cell.pop("outputs", None)
        cell.pop("execution_count", None)


def repair(nb, release) -> list[dict]:
    """Match ``nb``'s cells to the ``release``d notebook and restore what must not change.

    Raises :class:`Refused` when not one cell can be matched (the wrong file, or a notebook
    whose nbgrader metadata was stripped and whose read-only cells were all rewritten).
    """
    R, S = release.cells, nb.cells
    rid = {_nbg(c)["grade_id"]: i for i, c in enumerate(R) if _nbg(c).get("grade_id")}
    key: list[int | None] = [None] * len(S)
    notes: list[dict] = []
    dropped_dup, dropped_unknown = [], []

    # 1. by grade_id; as nbgrader's DeduplicateIds, the last copy of an id keeps it
    taken: set[str] = set()
    for j in reversed(range(len(S))):
        gid = _nbg(S[j]).get("grade_id")
        if gid is None:
            if _nbg(S[j]):
                S[j].metadata.pop("nbgrader", None)
            continue
        if gid in rid and gid not in taken:
            taken.add(gid)
            key[j] = rid[gid]
        else:
            (dropped_dup if gid in rid else dropped_unknown).append(gid)
            S[j].metadata.pop("nbgrader", None)

    def bounds(r: int) -> tuple[int, int]:
        lo = max([j for j, k in enumerate(key) if k is not None and k < r], default=-1)
        hi = min([j for j, k in enumerate(key) if k is not None and k > r], default=len(S))
        return lo, hi

    # 2. read-only cells by their content, keeping the released order
    by_content = 0
    for r, rc in enumerate(R):
        if r in key or not _fixed(rc):
            continue
        lo, hi = bounds(r)
        for j in range(lo + 1, hi):
            if key[j] is None and _norm(S[j].source) == _norm(rc.source):
                key[j] = r
                by_content += 1
                break

    if not any(k is not None for k in key):
        raise Refused("unmatched", "제출한 노트북의 어떤 셀도 배포한 연습 문제와 맞지 않습니다. 다른 파일을 냈거나 "
                      "읽기 전용 셀을 모두 바꾼 것 같습니다. 배포한 노트북에 답을 써서 다시 제출하세요.",
                      "none of the notebook's cells matches the released exercise: a different file, or every "
                      "read-only cell was rewritten. Write your answers in the released notebook and resubmit.")

    # 3. answer cells by position between matched cells (the best overlap with the release)
    by_position = 0
    for r, rc in enumerate(R):
        if r in key or not _nbg(rc).get("solution"):
            continue
        lo, hi = bounds(r)
        want = {ln.strip() for ln in _norm(rc.source).splitlines() if ln.strip() and "NotImplementedError" not in ln
                and not ln.strip().startswith("#")}
        cands = [j for j in range(lo + 1, hi) if key[j] is None and S[j].cell_type == rc.cell_type]
        if cands:
            best = max(cands, key=lambda j: (len(want & {ln.strip() for ln in S[j].source.splitlines()}), -j))
            key[best] = r
            by_position += 1

    # 4. restore what was matched
    flipped, edited = [], []
    for j, r in enumerate(key):
        if r is None:
            continue
        rc, cell = R[r], S[j]
        meta = copy.deepcopy(_nbg(rc))
        if cell.cell_type != rc.cell_type:
            flipped.append(f"{meta['grade_id']} ({cell.cell_type} → {rc.cell_type})")
            _set_type(cell, rc.cell_type)
        if _fixed(rc) and _norm(cell.source) != _norm(rc.source):
            edited.append(meta["grade_id"])
            cell.source = rc.source
        cell.metadata["nbgrader"] = meta
        for flag in ("editable", "deletable"):
            if flag in rc.metadata:
                cell.metadata[flag] = rc.metadata[flag]

    # 5. re-add deleted read-only cells after their released predecessor
    cells = list(zip(S, key))
    readded = []
    for r, rc in enumerate(R):
        if not _fixed(rc) or r in key:
            continue
        after = max((p for p, (_, k) in enumerate(cells) if k is not None and k < r),
                    key=lambda p: cells[p][1], default=-1)
        new = copy.deepcopy(rc)
        new["id"] = f"readded-{_nbg(rc)['grade_id']}"[:64]
        cells.insert(after + 1, (new, r))
        readded.append(_nbg(rc)["grade_id"])
    nb.cells = [c for c, _ in cells]
    missing_answers = [_nbg(R[r])["grade_id"] for r in range(len(R)) if _nbg(R[r]).get("solution") and r not in key]

    # 6. say what happened, in both languages
    if by_content or by_position:
        notes.append(note("metadata-restored",
                          f"nbgrader 메타데이터가 없어(Colab 등) 셀 {by_content + by_position}개를 내용과 위치로 찾아 되살렸습니다.",
                          f"nbgrader metadata was missing (e.g. removed by Colab): {by_content + by_position} cell(s) "
                          "matched by content and position and restored"))
    for kind, items, ko, en in [
        ("duplicate-grade-id", sorted(set(dropped_dup)), "같은 채점 id({})가 여러 셀에 있어 마지막 셀만 채점 셀로 두었습니다.",
         "grade id(s) {} appeared in several cells (copied/split): only the last copy is graded"),
        ("unknown-grade-id", sorted(set(dropped_unknown)), "이 연습 문제에 없는 채점 id({})를 지웠습니다.",
         "removed grade id(s) {} that this exercise does not have"),
        ("type-restored", flipped, "셀 종류를 되돌렸습니다: {}.", "cell type restored: {}"),
        ("readonly-restored", edited, "수정된 읽기 전용 셀을 원래대로 되돌렸습니다: {}.", "edited read-only cell(s) restored: {}"),
        ("readded", readded, "지워진 셀을 다시 넣었습니다: {}.", "deleted cell(s) re-added: {}"),
        ("answer-not-found", missing_answers, "답 셀을 찾지 못했습니다: {} (테스트는 그대로 실행됩니다).",
         "answer cell(s) not found: {} (their tests still run)"),
    ]:
        if items:
            notes.append(note(kind, ko.format(", ".join(items)), en.format(", ".join(items))))
    return notes


# --------------------------------------------------------------------------- file names
COPY_PREFIX = re.compile(r"^(?:copy[ _]of[ _]|사본[ _-]+|복사본[ _-]+)+", re.I)
COPY_SUFFIX = re.compile(r"(?:\.ipynb)?(?:의 사본|[ _-]copy|[ _]사본)$", re.I)
DUP_SUFFIX = re.compile(r"(?:\s*\(\d+\)|-\d{1,2}|_\d{1,2})$")


def clean_name(filename: str) -> str:
    """``Copy of 05_perceptron (1).ipynb`` → ``05_perceptron`` (Colab, browser and LMS renamings)."""
    name = Path(filename).name
    name = re.sub(r"\.ipynb$", "", name, flags=re.I)
    for _ in range(3):
        before = name
        name = COPY_PREFIX.sub("", name).strip()
        name = COPY_SUFFIX.sub("", name).strip()
        name = re.sub(r"\s*\(\d+\)$", "", name).strip()
        if name == before:
            break
    return name


def names_stem(filename: str, stem: str) -> bool:
    """Does this file name (however renamed) name the exercise ``stem``?"""
    name = clean_name(filename).lower()
    s = stem.lower()
    return name == s or DUP_SUFFIX.sub("", name) == s or s in name or s.split("_", 1)[-1] in name.split("_")


def find_notebook(folder: Path, stem: str) -> tuple[Path | None, list[dict], list[str]]:
    """The notebook to grade in a submission folder, notes about the choice, and ignored files."""
    folder = Path(folder)
    files = sorted(p for p in folder.rglob("*") if p.is_file() and ".ipynb_checkpoints" not in p.parts
                   and p.name != "timestamp.txt" and not p.name.startswith("."))
    nbs = [p for p in files if p.suffix.lower() == ".ipynb"]
    ignored = [str(p.relative_to(folder)) for p in files if p.suffix.lower() != ".ipynb"]
    notes = []
    chosen = None
    exact = folder / f"{stem}.ipynb"
    if exact in nbs:
        chosen = exact
    else:
        named = [p for p in nbs if names_stem(p.name, stem)]
        pool = named or nbs
        if pool:
            chosen = max(pool, key=lambda p: (p.stat().st_mtime, p.name))
            notes.append(note("renamed", f"파일 이름이 {stem}.ipynb가 아니라 '{chosen.name}'이어서 이 파일을 채점했습니다.",
                              f"graded '{chosen.name}' (renamed; expected {stem}.ipynb)"))
    others = [p.name for p in nbs if p != chosen]
    if chosen and others:
        notes.append(note("other-notebooks", f"다른 노트북은 채점하지 않았습니다: {', '.join(others)}.",
                          f"other notebook(s) not graded: {', '.join(others)}"))
    if ignored:
        notes.append(note("ignored-files", f"노트북이 아닌 파일은 채점에 쓰지 않았습니다: {', '.join(ignored)}.",
                          f"files other than the notebook were ignored: {', '.join(ignored)}"))
    return chosen, notes, ignored


# --------------------------------------------------------------------------- roster and uploads
ALIASES = {
    "id": ("id", "student_id", "username", "login", "login_id", "user", "학번", "아이디"),
    "first_name": ("first_name", "first", "given_name", "firstname", "이름"),
    "last_name": ("last_name", "last", "family_name", "surname", "lastname", "성"),
    "email": ("email", "e-mail", "mail", "이메일"),
    "lms_user_id": ("lms_user_id", "lms_id", "canvas_id", "sis_id", "sis_user_id", "moodle_id"),
}
SAFE_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@+-]{0,99}$")


def read_roster(path: Path) -> list[dict]:
    """Rows of a roster CSV: ``id`` required (aliases: student_id, username, 학번 …), names, email."""
    with open(path, newline="", encoding="utf-8-sig") as fh:
        reader = csv.DictReader(fh)
        if not reader.fieldnames:
            raise ValueError(f"{path}: empty roster")
        fields = {f.strip().lower(): f for f in reader.fieldnames if f}
        colmap = {}
        for key, names in ALIASES.items():
            for n in names:
                if n in fields:
                    colmap[key] = fields[n]
                    break
        if "id" not in colmap:
            raise ValueError(f"{path}: no student id column (one of {', '.join(ALIASES['id'])}); columns: {reader.fieldnames}")
        rows, seen = [], set()
        for n, raw in enumerate(reader, start=2):
            row = {k: (raw.get(c) or "").strip() for k, c in colmap.items()}
            row["extra"] = {k: (v or "").strip() for k, v in raw.items() if k and k not in colmap.values()}
            sid = row["id"]
            if not sid:
                continue
            if not SAFE_ID.match(sid):
                raise ValueError(f"{path} line {n}: student id {sid!r} must be letters, digits and . _ @ + - (no spaces or /)")
            if sid in seen:
                raise ValueError(f"{path} line {n}: student id {sid!r} appears twice")
            seen.add(sid)
            rows.append(row)
    return rows


@dataclass
class Upload:
    source: str      # where it came from: a path relative to the folder, or zip:member
    data: bytes
    mtime: str       # ISO 8601, UTC for files, as stored for zip members

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()


def read_uploads(src: Path) -> tuple[list[Upload], list[dict]]:
    """Every file in a folder, a zip (LMS export) or a single file; problems are reported, not raised."""
    src = Path(src)
    uploads, problems = [], []
    skip = lambda parts: any(p.startswith(".") or p == "__MACOSX" or p == ".ipynb_checkpoints" for p in parts)  # noqa: E731
    if src.is_dir():
        for p in sorted(src.rglob("*")):
            rel = p.relative_to(src)
            if p.is_file() and not skip(rel.parts):
                if zipfile.is_zipfile(p) and p.suffix.lower() == ".zip":
                    inner, probs = read_uploads(p)
                    uploads += [Upload(f"{rel.as_posix()}!{u.source}", u.data, u.mtime) for u in inner]
                    problems += probs
                    continue
                t = dt.datetime.fromtimestamp(p.stat().st_mtime, dt.timezone.utc).replace(tzinfo=None)
                uploads.append(Upload(rel.as_posix(), p.read_bytes(), t.isoformat(timespec="seconds")))
    elif zipfile.is_zipfile(src):
        with zipfile.ZipFile(src) as zf:
            for info in sorted(zf.infolist(), key=lambda i: i.filename):
                parts = Path(info.filename).parts
                if info.is_dir() or skip(parts):
                    continue
                if info.file_size > MAX_UPLOAD:
                    problems.append({"source": info.filename, "reason": f"too large ({info.file_size:,} bytes)"})
                    continue
                t = dt.datetime(*info.date_time).isoformat(timespec="seconds")
                uploads.append(Upload(info.filename, zf.read(info), t))
    elif src.is_file():
        t = dt.datetime.fromtimestamp(src.stat().st_mtime, dt.timezone.utc).replace(tzinfo=None)
        uploads.append(Upload(src.name, src.read_bytes(), t.isoformat(timespec="seconds")))
    else:
        raise FileNotFoundError(f"{src}: no such folder, zip or file")
    return uploads, problems


TOKEN = re.compile(r"[\\/_\-\s.()\[\],@+!#~]+")


def _tokens(text: str) -> list[str]:
    return [t for t in TOKEN.split(text.lower()) if t]


def _contains(seq: list[str], sub: list[str]) -> bool:
    n = len(sub)
    return n > 0 and any(seq[i:i + n] == sub for i in range(len(seq) - n + 1))


def student_keys(row: dict, by: list[str] = ()) -> list[list[str]]:
    """Token sequences that identify a student in an upload's path."""
    keys = [row["id"]]
    email = row.get("email", "")
    if email:
        keys += [email, email.split("@")[0]]
    if row.get("lms_user_id"):
        keys.append(row["lms_user_id"])
    for col in by:
        v = row.get(col) or row.get("extra", {}).get(col)
        if v:
            keys.append(v)
    first, last = row.get("first_name", ""), row.get("last_name", "")
    if first and last:
        keys += [f"{first} {last}", f"{last} {first}", f"{first}{last}", f"{last}{first}"]
    out = []
    for k in keys:
        t = _tokens(k)
        if t and len("".join(t)) >= 2 and t not in out:
            out.append(t)
    return out


def match_student(source: str, roster: list[dict], *, pattern: str | None = None,
                  by: list[str] = ()) -> tuple[str | None, str]:
    """(student id, how it was matched) or (None, why not) for one upload path."""
    if pattern:
        m = re.search(pattern, source)
        if not m or "student" not in m.groupdict():
            return None, f"the pattern {pattern!r} does not match this name"
        value = _tokens(m.group("student"))
        hits = [r["id"] for r in roster if value in student_keys(r, by)]
        if len(hits) == 1:
            return hits[0], f"pattern: {m.group('student')!r}"
        return None, (f"pattern found {m.group('student')!r}, which is no roster student" if not hits
                      else f"pattern found {m.group('student')!r}, which fits {', '.join(hits)}")
    toks = _tokens(source)
    best, hits = 0, []
    for r in roster:
        for k in student_keys(r, by):
            if _contains(toks, k):
                score = len("".join(k))
                if score > best:
                    best, hits = score, [(r["id"], " ".join(k))]
                elif score == best and r["id"] not in [h[0] for h in hits]:
                    hits.append((r["id"], " ".join(k)))
    if len(hits) == 1:
        return hits[0][0], f"name contains {hits[0][1]!r}"
    if not hits:
        return None, "no roster student's id, email, LMS id or name appears in the file or folder name"
    return None, "ambiguous: the name fits " + ", ".join(h[0] for h in hits)
