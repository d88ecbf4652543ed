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
import os
import re
import stat
import tempfile
import zipfile
from dataclasses import dataclass, field
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
    except RecursionError:
        raise Refused("too-deep", "JSON이 너무 깊게 중첩되어 있어 읽지 않았습니다. 주피터가 저장한 노트북이 아닙니다. 배포한 노트북에 답을 써서 다시 제출하세요.",
                      "the JSON is nested too deeply to read: not a notebook Jupyter saved; write your answers in "
                      "the released notebook and resubmit") from None
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
    except Exception as err:  # whatever fails to parse is not a notebook
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
        if not isinstance(gid, str):  # a list, a number …: no released cell has it
            dropped_unknown.append(json.dumps(gid, ensure_ascii=False)[:60])
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
    files = sorted(p for p in folder.rglob("*") if p.is_file() and not p.is_symlink()  # only regular files, never a link
                   and ".ipynb_checkpoints" not in p.parts and p.name != "timestamp.txt" and not p.name.startswith("."))
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


# --------------------------------------------------------------------------- uploads, read streaming
CHUNK = 1 << 20            # bytes read at a time: memory stays bounded whatever a member claims to be
MAX_NESTING = 3            # zips inside zips are unpacked this deep
JUNK_DIRS = {"__MACOSX", ".ipynb_checkpoints", ".git", ".svn", "__pycache__"}
JUNK_FILES = {".DS_Store", "Thumbs.db", "desktop.ini"}


def _junk(parts: list[str]) -> bool:
    """Operating-system and editor litter (macOS resource forks, checkpoints, lock files): never a submission."""
    return any(p in JUNK_DIRS for p in parts[:-1]) or (bool(parts) and (
        parts[-1] in JUNK_FILES or parts[-1].startswith(("._", ".~"))))


@dataclass
class Upload:
    source: str      # where it came from: a path in the folder or zip; `outer.zip!inner` inside a nested zip
    path: Path       # its bytes, spooled to disk while hashed (the caller moves or deletes this file)
    mtime: str       # ISO 8601, UTC for files, as stored for zip members
    sha256: str
    size: int
    member: str | None = None                     # the name as stored, when it had to be re-decoded or made safe
    notes: list = field(default_factory=list)     # bilingual notes on how it was read

    @property
    def data(self) -> bytes:
        return Path(self.path).read_bytes()


def problem(source: str, kind: str, ko: str, en: str) -> dict:
    """An upload that could not be collected: kept in the manifest and shown in the report."""
    return {"source": source, "kind": kind, "reason": en, "reason_ko": ko}


class TooLarge(Exception):
    pass


def spool(fh, folder: Path, cap: int | None = None) -> tuple[Path, str, int]:
    """Copy ``fh`` into a new file under ``folder``, CHUNK bytes at a time, hashing as it goes;
    stops with :class:`TooLarge` after ``cap`` bytes (whatever a zip header claimed)."""
    cap = MAX_UPLOAD if cap is None else cap
    fd, name = tempfile.mkstemp(dir=folder, suffix=".part")
    h, n = hashlib.sha256(), 0
    try:
        with os.fdopen(fd, "wb") as out:
            while True:
                chunk = fh.read(CHUNK)
                if not chunk:
                    break
                n += len(chunk)
                if n > cap:
                    raise TooLarge(n)
                h.update(chunk)
                out.write(chunk)
    except BaseException:
        os.unlink(name)
        raise
    return Path(name), h.hexdigest(), n


def _too_large(source: str, n: int) -> dict:
    mib = MAX_UPLOAD / (1 << 20)
    return problem(source, "too-large", f"업로드 하나의 한도 {mib:g} MiB보다 큽니다({n:,}바이트를 읽고 멈췄습니다). 가져오지 않았습니다. "
                   "출력을 지운 노트북을 다시 받으세요.",
                   f"larger than the {mib:g} MiB limit per upload (stopped after reading {n:,} bytes): not collected; "
                   "ask for the notebook again with its outputs cleared")


def _unreadable(source: str, err: BaseException, what: str = "file") -> dict:
    text = f"{type(err).__name__}: {err}"[:200]
    if what == "member":
        return problem(source, "corrupt", f"압축 파일 안의 이 파일이 손상되어 읽을 수 없습니다({text}). 가져오지 않았습니다. 파일을 다시 받으세요.",
                       f"this member of the archive is corrupt and cannot be read ({text}): not collected; ask for the file again")
    return problem(source, "unreadable", f"읽을 수 없습니다({text}). 가져오지 않았습니다.", f"cannot be read ({text}): not collected")


def member_name(info: zipfile.ZipInfo) -> str:
    """A zip member's name as its author wrote it. Without the UTF-8 flag a name is stored in the
    zipping computer's code page (cp949 on Korean Windows), which :mod:`zipfile` decodes as cp437:
    an Info-ZIP Unicode path field is used when present, else UTF-8 (macOS, Linux), else cp949."""
    name = info.filename
    if info.flag_bits & 0x800 or name.isascii():
        return name
    extra = info.extra
    while len(extra) >= 4:  # 0x7075: Info-ZIP Unicode Path Extra Field (version, crc32, UTF-8 name)
        tag, size = int.from_bytes(extra[:2], "little"), int.from_bytes(extra[2:4], "little")
        if tag == 0x7075 and size > 5:
            try:
                return extra[9:4 + size].decode("utf-8")
            except UnicodeDecodeError:
                break
        extra = extra[4 + size:]
    try:
        raw = name.encode("cp437")
    except UnicodeEncodeError:
        return name
    for enc in ("utf-8", "cp949"):
        try:
            return raw.decode(enc)
        except UnicodeDecodeError:
            pass
    return name


def fs_name(rel: str) -> str:
    """A file name from the disk whose bytes are not UTF-8 (an export unpacked from a cp949 zip): cp949, else replaced."""
    if not any("\udc80" <= ch <= "\udcff" for ch in rel):
        return rel
    raw = os.fsencode(rel)
    try:
        return raw.decode("cp949")
    except UnicodeDecodeError:
        return raw.decode("utf-8", "replace")


def _zip_time(info: zipfile.ZipInfo) -> str:
    try:
        return dt.datetime(*info.date_time).isoformat(timespec="seconds")
    except ValueError:  # a zeroed or corrupt date field
        return "1980-01-01T00:00:00"


def iter_uploads(src: Path, folder: Path):
    """Every upload in a folder, a zip (LMS export) or a single file, one at a time.

    Each is spooled into ``folder`` while it is hashed, so memory stays bounded (by :data:`CHUNK`)
    whatever the sizes; the caller moves or deletes :attr:`Upload.path`. Yields :class:`Upload`
    objects and, for what cannot be collected, :func:`problem` dicts: a symbolic link or other
    non-regular file, a member over :data:`MAX_UPLOAD`, a corrupt or encrypted member, a zip nested
    deeper than :data:`MAX_NESTING`. Zips inside the folder or the zip are unpacked the same way.
    """
    src, folder = Path(src), Path(folder)
    if src.is_dir():
        yield from _iter_folder(src, folder)
    elif src.is_file():
        with open(src, "rb") as fh:
            if zipfile.is_zipfile(fh):
                try:
                    zf = zipfile.ZipFile(fh)
                except (zipfile.BadZipFile, OSError, ValueError, EOFError) as err:
                    raise ValueError(f"{src}: not a readable zip archive ({err})") from None
                with zf:
                    yield from _iter_zip(zf, "", folder, 1)
                return
            t = dt.datetime.fromtimestamp(os.fstat(fh.fileno()).st_mtime, dt.timezone.utc).replace(tzinfo=None)
            fh.seek(0)
            try:
                path, sha, size = spool(fh, folder)
            except TooLarge as err:
                yield _too_large(src.name, err.args[0])
                return
            yield Upload(src.name, path, t.isoformat(timespec="seconds"), sha, size)
    else:
        raise FileNotFoundError(f"{src}: no such folder, zip or file")


def _iter_folder(src: Path, folder: Path):
    for dirpath, dirnames, filenames in os.walk(src, followlinks=False):
        base = Path(dirpath)
        dirnames.sort()
        for d in list(dirnames):
            p = base / d
            if d in JUNK_DIRS:
                dirnames.remove(d)
            elif p.is_symlink():
                dirnames.remove(d)
                yield _link_problem(fs_name(p.relative_to(src).as_posix()), p)
        for f in sorted(filenames):
            p = base / f
            name = fs_name(p.relative_to(src).as_posix())
            if _junk(name.split("/")):
                continue
            try:
                yield from _read_file(p, name, folder)
            except Exception as err:  # one unreadable file is its upload's problem
                yield _unreadable(name, err)


def _link_problem(name: str, p: Path) -> dict:
    try:
        target = os.readlink(p)
    except OSError:
        target = "?"
    return problem(name, "symlink", f"심볼릭 링크(→ {target})라서 가져오지 않았습니다. 일반 파일만 가져옵니다.",
                   f"a symbolic link (→ {target}): not collected, only regular files are")


def _read_file(p: Path, name: str, folder: Path):
    st = os.lstat(p)
    if stat.S_ISLNK(st.st_mode):
        yield _link_problem(name, p)
        return
    if not stat.S_ISREG(st.st_mode):
        yield problem(name, "not-a-file", "일반 파일이 아니어서(FIFO, 소켓, 장치 등) 가져오지 않았습니다.",
                      "not a regular file (a FIFO, socket or device): not collected")
        return
    fd = os.open(p, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0))
    with os.fdopen(fd, "rb") as fh:
        st = os.fstat(fh.fileno())
        if not stat.S_ISREG(st.st_mode):  # replaced between the two looks
            yield problem(name, "not-a-file", "일반 파일이 아니어서 가져오지 않았습니다.", "not a regular file: not collected")
            return
        if name.lower().endswith(".zip") and zipfile.is_zipfile(fh):
            try:
                fh.seek(0)
                zf = zipfile.ZipFile(fh)
            except (zipfile.BadZipFile, OSError, ValueError, EOFError):
                zf = None
            if zf is not None:
                with zf:
                    yield from _iter_zip(zf, f"{name}!", folder, 1)
                return
        fh.seek(0)
        t = dt.datetime.fromtimestamp(st.st_mtime, dt.timezone.utc).replace(tzinfo=None)
        try:
            path, sha, size = spool(fh, folder)
        except TooLarge as err:
            yield _too_large(name, err.args[0])
            return
        yield Upload(name, path, t.isoformat(timespec="seconds"), sha, size)


UNSAFE_PART = re.compile(r"^(?:\.\.|[A-Za-z]:)$")


def _iter_zip(zf: zipfile.ZipFile, prefix: str, folder: Path, depth: int):
    for info in sorted(zf.infolist(), key=lambda i: i.filename):
        if info.is_dir():
            continue
        raw = member_name(info)
        parts = [p for p in re.split(r"[/\\]+", raw) if p and p != "."]
        if not parts or _junk(parts):
            continue
        safe = [p for p in parts if not UNSAFE_PART.match(p)]
        source = prefix + "/".join(safe)
        if not safe:
            yield problem(prefix + raw, "unsafe-path", "경로가 압축 파일 밖을 가리켜서 가져오지 않았습니다.",
                          "its path points outside the archive: not collected")
            continue
        notes = []
        if safe != parts or raw.startswith(("/", "\\")):
            notes.append(note("unsafe-path", f"압축 파일 안의 경로 '{raw}'가 압축 파일 밖을 가리켜서 '{'/'.join(safe)}'(으)로 가져왔습니다.",
                              f"the archive's path '{raw}' points outside the archive: collected as '{'/'.join(safe)}'"))
        try:
            if stat.S_ISLNK(info.external_attr >> 16):
                yield problem(source, "symlink", "압축 파일 안의 심볼릭 링크라서 가져오지 않았습니다. 일반 파일만 가져옵니다.",
                              "a symbolic link stored in the archive: not collected, only regular files are")
                continue
            if info.flag_bits & 0x1:
                yield problem(source, "encrypted", "암호가 걸린 압축 파일이라 읽을 수 없습니다. 암호 없이 다시 받으세요.",
                              "password-protected in the archive: cannot be read; ask for it without a password")
                continue
            with zf.open(info) as fh:
                path, sha, size = spool(fh, folder)
        except TooLarge as err:
            yield _too_large(source, err.args[0])
            continue
        except Exception as err:  # a corrupt member (bad CRC, truncated stream, bad method)
            yield _unreadable(source, err, "member")
            continue
        if source.lower().endswith(".zip"):
            try:
                inner = zipfile.ZipFile(path) if zipfile.is_zipfile(path) else None
            except (zipfile.BadZipFile, OSError, ValueError, EOFError):
                inner = None
            if inner is not None:
                with inner:
                    if depth >= MAX_NESTING:
                        yield problem(source, "nested-too-deep", f"압축 파일이 {MAX_NESTING}단계보다 깊이 들어 있어 풀지 않았습니다.",
                                      f"a zip nested more than {MAX_NESTING} levels deep: not unpacked")
                    else:
                        yield from _iter_zip(inner, f"{source}!", folder, depth + 1)
                os.unlink(path)
                continue
        yield Upload(source, path, _zip_time(info), sha, size, member=raw if raw != source[len(prefix):] else None,
                     notes=notes)


def read_uploads(src: Path, folder: Path | None = None) -> tuple[list[Upload], list[dict]]:
    """:func:`iter_uploads` as two lists (uploads spooled under ``folder``, default a new temporary folder)."""
    folder = Path(folder) if folder else Path(tempfile.mkdtemp(prefix="dlbook-uploads-"))
    uploads, problems = [], []
    for item in iter_uploads(src, folder):
        (uploads if isinstance(item, Upload) else problems).append(item)
    return uploads, problems


# --------------------------------------------------------------------------- whose upload is it
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


def named_in(text: str, roster: list[dict], by: list[str] = ()) -> list[tuple[str, str]]:
    """The students ``text`` names, as (id, key): every student one of whose keys appears in it as
    whole words, except one whose every appearance lies inside a longer key of another student
    (``kim`` inside ``minjun kim``)."""
    toks = _tokens(text)
    spans: dict[str, list[tuple[int, int, str]]] = {}
    for r in roster:
        for k in student_keys(r, by):
            n = len(k)
            for i in range(len(toks) - n + 1):
                if toks[i:i + n] == k:
                    spans.setdefault(r["id"], []).append((i, i + n, " ".join(k)))
    out = []
    for sid, mine in spans.items():
        def inside(s, sid=sid):  # bound now: B023
            return any(o != sid and a <= s[0] and s[1] <= b and b - a > s[1] - s[0]
                       for o, theirs in spans.items() for a, b, _ in theirs)
        kept = [s for s in mine if not inside(s)]
        if kept:
            best = max(kept, key=lambda s: (s[1] - s[0], len(s[2])))
            out.append((sid, best[2]))
    return sorted(out)


# Parts of an upload's path that the LMS wrote, not the student: they decide whose upload it is.
MOODLE = re.compile(r"^(?P<owner>.+?)_(?P<uid>\d+)_assign(?:submission|feedback)_[a-z]+_?(?P<rest>.*)$", re.I)
CANVAS = re.compile(r"^(?P<owner>[^_]+)_(?:late_)?(?P<uid>\d+)_(?P<fid>\d+)_(?P<rest>.+)$", re.I)
EXCHANGE = re.compile(r"^(?P<owner>[^+]+)\+(?P<assignment>[^+]+)\+(?P<ts>\d{4}-\d\d-\d\d[^+]*)(?:\+[^+]*)?$")


def lms_part(source: str) -> tuple[str, str, str, str] | None:
    """(which LMS, the owner it wrote, the path component it wrote, what follows) for the outermost
    component of ``source`` that an LMS wrote: a Moodle folder ``Full Name_123_assignsubmission_file_``
    (or Moodle's flat ``…_assignsubmission_file_name.ipynb``), nbgrader's exchange
    ``student+assignment+timestamp``, or Canvas's ``login_[late_]userid_fileid_name`` (first component)."""
    parts = [p for p in re.split(r"[/!]", source) if p]
    for i, part in enumerate(parts):
        rest = "/".join(parts[i + 1:])
        m = MOODLE.match(part)
        if m:
            return ("Moodle folder", f"{m['owner']} {m['uid']}", part[:len(part) - len(m["rest"])],
                    "/".join(x for x in (m["rest"], rest) if x))
        m = EXCHANGE.match(part)
        if m:
            return "nbgrader exchange folder", m["owner"], part, rest
        if i == 0:
            m = CANVAS.match(part)
            if m:
                return ("Canvas prefix", f"{m['owner']} {m['uid']}", part[:len(part) - len(m["rest"])],
                        "/".join(x for x in (m["rest"], rest) if x))
    return None


@dataclass
class Match:
    student: str | None
    how: str                                          # the rule that matched, or why nobody was
    candidates: list = field(default_factory=list)    # ambiguous: the students it could be


def identify(source: str, roster: list[dict], *, pattern: str | None = None, by: list[str] = ()) -> Match:
    """Whose upload ``source`` is. The part of the path the LMS wrote decides (see :func:`lms_part`);
    a file name that names another student makes the upload ambiguous — never reassigned.
    Without an LMS part, the one student whose id, e-mail, LMS id or full name appears in the path."""
    if pattern:
        m = re.search(pattern, source)
        if not m or "student" not in m.groupdict():
            return Match(None, f"the pattern {pattern!r} does not match this name")
        value = _tokens(m.group("student"))
        hits = [r["id"] for r in roster if value in student_keys(r, by)]
        if len(hits) == 1:
            return Match(hits[0], f"pattern: {m.group('student')!r}")
        return Match(None, f"pattern found {m.group('student')!r}, which is no roster student" if not hits
                     else f"pattern found {m.group('student')!r}, which fits {', '.join(hits)}", hits)
    lms = lms_part(source)
    if lms:
        kind, owner_text, part, rest = lms
        if kind == "nbgrader exchange folder":
            owners = [(r["id"], r["id"]) for r in roster if r["id"] == owner_text]
        else:
            owners = named_in(owner_text, roster, list(by))
        if not owners:
            return Match(None, f"the {kind} '{part}' names no roster student")
        if len(owners) > 1:
            ids = [o[0] for o in owners]
            return Match(None, f"ambiguous: the {kind} '{part}' fits {', '.join(ids)}", ids)
        owner, key = owners[0]
        others = [sid for sid, _ in named_in(rest, roster, list(by)) if sid != owner]
        if others:
            return Match(None, f"ambiguous: the {kind} '{part}' is {owner}'s, but the file name '{rest}' names "
                         f"{', '.join(others)}; not graded for anyone (move it by hand if it is right)", [owner] + others)
        return Match(owner, f"{kind} {key!r}")
    hits = named_in(source, roster, list(by))
    if len(hits) == 1:
        return Match(hits[0][0], f"name contains {hits[0][1]!r}")
    if not hits:
        return Match(None, "no roster student's id, email, LMS id or name appears in the file or folder name")
    return Match(None, "ambiguous: the name fits " + ", ".join(h[0] for h in hits), [h[0] for h in hits])


def match_student(source: str, roster: list[dict], *, pattern: str | None = None,
                  by: list[str] = ()) -> tuple[str | None, str]:
    """(student id, how it was matched) or (None, why not) for one upload path (see :func:`identify`)."""
    m = identify(source, roster, pattern=pattern, by=by)
    return m.student, m.how
