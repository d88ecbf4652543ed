"""`course collect` and the intake under hostile and unusual inputs (issue 17, items 1, 2, 5–8).

Each test builds its own export in ``tmp_path``: symbolic links and FIFOs in an unpacked folder,
zips with corrupt, over-size, size-lying, cp949-named, ``../``-pathed, symlink and nested members,
uploads whose file name names a classmate, notebooks that crashed the intake. Memory is measured
in a child process. No kernel runs here: grading itself is tested in ``test_course_kit.py``.
"""
from __future__ import annotations

import json
import os
import shutil
import stat
import struct
import subprocess
import sys
import zipfile
import zlib
from pathlib import Path

import pytest

from dlbook_tools import course, intake, notebooks

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT / "tests" / "corpus" / "05_perceptron"
STEM = "05_perceptron"
PEOPLE = intake.read_roster(CORPUS / "roster.csv")
SOLVED = (CORPUS / "uploads" / "Minjun Kim_1001_assignsubmission_file_" / f"{STEM}.ipynb").read_bytes()
MOODLE = {"s01": "Minjun Kim_1001_assignsubmission_file_", "s02": "Seojun Lee_20002_assignsubmission_file_",
          "s03": "김서연_1003_assignsubmission_file_", "s04": "Doyun Park_1004_assignsubmission_file_"}


@pytest.fixture(scope="module")
def pristine(tmp_path_factory):
    return course.init_course(tmp_path_factory.mktemp("intake") / "course", [STEM], roster=CORPUS / "roster.csv")


@pytest.fixture
def c(pristine, tmp_path):
    """A fresh copy of a course with the corpus roster and nothing collected."""
    shutil.copytree(pristine, tmp_path / "course", symlinks=True)
    return tmp_path / "course"


def rows_of(c):
    return {r["student"]: r for r in course.report(c, STEM)}


def manifest(c):
    return json.loads((c / "uploads" / STEM / "manifest.json").read_text(encoding="utf-8"))


# ------------------------------------------------------------------ zips built byte by byte
def raw_zip(path: Path, members: list[dict]) -> Path:
    """A zip written by hand, so that headers can lie: each member is a dict with ``name`` (bytes),
    ``data`` (as stored), and optionally ``method`` (8: deflate), ``crc``, ``size`` (declared
    uncompressed size), ``flags``, ``mode`` (Unix mode in the external attributes)."""
    out, central = bytearray(), bytearray()
    for m in members:
        name, data = m["name"], m["data"]
        method, flags = m.get("method", 0), m.get("flags", 0)
        crc, size = m.get("crc", zlib.crc32(data)), m.get("size", len(data))
        offset = len(out)
        out += struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, flags, method, 0, 0x5C61, crc, len(data), size, len(name), 0)
        out += name + data
        central += struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 0x0314, 20, flags, method, 0, 0x5C61, crc, len(data),
                               size, len(name), 0, 0, 0, 0, m.get("mode", 0o100644) << 16, offset) + name
    out += central + struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, len(members), len(members), len(central), len(out), 0)
    path.write_bytes(bytes(out))
    return path


def deflate(data: bytes) -> bytes:
    c = zlib.compressobj(6, zlib.DEFLATED, -15)
    return c.compress(data) + c.flush()


def deflated_zeros(total: int) -> bytes:
    """A raw deflate stream of ``total`` zero bytes, built in milliseconds: after a full flush the
    compressor starts afresh, so one compressed MiB can be repeated."""
    c = zlib.compressobj(9, zlib.DEFLATED, -15)
    first = c.compress(bytes(1 << 20)) + c.flush(zlib.Z_FULL_FLUSH)
    again = c.compress(bytes(1 << 20)) + c.flush(zlib.Z_FULL_FLUSH)
    return first + again * (total // (1 << 20) - 1) + c.flush()


def zip_of(path: Path, members: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            zf.writestr(zipfile.ZipInfo(name, date_time=(2026, 3, 2, 9, 0, 0)), data)
    return path


def nested(levels: int, name: str, data: bytes) -> bytes:
    """``data`` as ``name`` inside ``levels`` zips, one inside the other."""
    import io

    for n in range(levels):
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w") as zf:
            zf.writestr(name, data)
        name, data = f"level{levels - n}.zip", buf.getvalue()
    return data


def in_child(code: str, *args: str) -> dict:
    """Run ``code`` in a fresh Python; it prints one JSON line (memory is measured there)."""
    r = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr[-3000:]
    return json.loads(r.stdout.strip().splitlines()[-1])


MEASURED_COLLECT = """
import json, resource, sys
from pathlib import Path
from dlbook_tools import course, intake
if len(sys.argv) > 3:
    intake.MAX_UPLOAD = int(sys.argv[3])
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
got = course.collect(Path(sys.argv[1]), "05_perceptron", Path(sys.argv[2]))
grew = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before
print(json.dumps({"grew_mib": grew / 1024, "students": got["students"],
                  "problems": sorted((p["source"], p["kind"], p["student"]) for p in got["problems"])}))
"""


# ------------------------------------------------------------------ 1. the LMS's part of the path decides
@pytest.mark.parametrize("source, owner", [
    (f"{MOODLE['s01']}/{STEM}.ipynb", "s01"),
    (f"{MOODLE['s01']}/minjun_kim_{STEM}.ipynb", "s01"),                         # naming oneself is fine
    (f"Minjun Kim_1001_assignsubmission_file_{STEM}.ipynb", "s01"),             # Moodle without folders
    (f"s02_20002_9002_{STEM}.ipynb", "s02"),                                     # Canvas
    (f"s02_late_20002_9002_{STEM}.ipynb", "s02"),                                # Canvas, late
    (f"s02+{STEM}+2026-03-02 09:00:00.000000 UTC+x1/{STEM}.ipynb", "s02"),       # nbgrader's inbound folder
    (f"export/{MOODLE['s03']}/Copy of {STEM}.ipynb", "s03"),                     # the Moodle folder one level down
])
def test_the_lms_part_of_the_path_names_the_owner(source, owner):
    m = intake.identify(source, PEOPLE)
    assert (m.student, m.candidates) == (owner, []), m.how


@pytest.mark.parametrize("source, who", [
    (f"{MOODLE['s01']}/seojun.lee@school.example.ipynb", ["s01", "s02"]),        # B's e-mail in A's Moodle folder
    (f"{MOODLE['s01']}/Seojun Lee - {STEM}.ipynb", ["s01", "s02"]),              # B's full name
    (f"{MOODLE['s01']}/homework.zip!s02_{STEM}.ipynb", ["s01", "s02"]),          # B's id inside A's zip
    ("s01_1001_777_seojun.lee@school.example.ipynb", ["s01", "s02"]),           # behind A's Canvas prefix
    ("s01_1001_777_Seojun Lee.ipynb", ["s01", "s02"]),
    (f"s01+{STEM}+2026-03-02 09:00:00 UTC/s02_{STEM}.ipynb", ["s01", "s02"]),    # inside A's exchange folder
    (f"s01_s02_{STEM}.ipynb", ["s01", "s02"]),                                   # no LMS part, two students named
])
def test_a_file_name_naming_a_classmate_is_ambiguous_never_reassigned(source, who):
    m = intake.identify(source, PEOPLE)
    assert m.student is None and "ambiguous" in m.how and sorted(m.candidates) == who, m.how
    assert intake.match_student(source, PEOPLE)[0] is None


def test_an_lms_folder_of_nobody_on_the_roster_is_not_matched_by_its_file_name():
    m = intake.identify("Guest Auditor_9999_assignsubmission_file_/seojun.lee@school.example.ipynb", PEOPLE)
    assert m.student is None and "names no roster student" in m.how


def test_a_key_inside_a_longer_key_of_another_student_is_not_a_second_name():
    people = [{"id": "kim", "extra": {}}, {"id": "u2", "first_name": "Minjun", "last_name": "Kim", "extra": {}}]
    assert intake.identify(f"minjun_kim_{STEM}.ipynb", people).student == "u2"
    assert intake.identify(f"kim_{STEM}.ipynb", people).student == "kim"


# ------------------------------------------------------------------ 2. one odd notebook never stops the batch
def test_an_unexpected_error_refuses_that_submission_and_the_batch_goes_on(c, monkeypatch):
    boom = json.loads(SOLVED)
    boom["metadata"]["boom"] = True
    course.submit(c, STEM, "s01", CORPUS / "uploads" / f"s31_{STEM}.ipynb")          # JSON nested 100,000 deep
    (c / "boom.ipynb").write_text(json.dumps(boom), encoding="utf-8")
    course.submit(c, STEM, "s02", c / "boom.ipynb")                                 # repair raises TypeError
    course.submit(c, STEM, "s03", CORPUS / "uploads" / f"s30_{STEM}.ipynb")          # grade_id a JSON list
    course.submit(c, STEM, "s04", CORPUS / "uploads" / "Minjun Kim_1001_assignsubmission_file_" / f"{STEM}.ipynb")
    real_repair = intake.repair

    def repair(nb, release):
        if nb.metadata.get("boom"):
            raise TypeError("unhashable type: 'list'")
        return real_repair(nb, release)

    ran = {}

    def run(self, spec, timeout):  # instead of a kernel: note what was staged
        nb = notebooks.read(Path(spec["input"]))
        ran[spec["student"]] = [x.metadata["nbgrader"]["grade_id"] for x in nb.cells if "nbgrader" in x.metadata]
        return {"status": "error", "error": "not executed in this test"}

    monkeypatch.setattr(intake, "repair", repair)
    monkeypatch.setattr(course.Worker, "run", run)
    rep = course.autograde(c, STEM, jobs=1, sandbox=False)
    rows = {r["student"]: r for r in rep["students"]}
    assert rows["s01"]["status"] == "refused" and "nested too deeply" in rows["s01"]["message"]
    assert rows["s02"]["status"] == "refused" and "could not read or repair" in rows["s02"]["message"]
    assert "TypeError" in rows["s02"]["message"] and rows["s02"]["message_ko"]
    assert sorted(ran) == ["s03", "s04"]  # both staged after the failures: the batch went on
    assert ran["s03"] == ran["s04"] and ran["s03"].count("test_perceptron") == 1  # the listed grade_id, repaired
    assert rows["s04"]["status"] == "error" and "not executed in this test" in rows["s04"]["message"]


# ------------------------------------------------------------------ 5. a folder: only regular files
def test_collect_from_a_folder_takes_only_regular_files(c, tmp_path):
    export, private = tmp_path / "export", tmp_path / "private"
    private.mkdir()
    (private / "exam-answers.ipynb").write_bytes(SOLVED.replace(b"Perceptron", b"PRIVATE"))
    for sid in ("s01", "s02", "s04"):
        (export / MOODLE[sid]).mkdir(parents=True)
    os.symlink("/etc/passwd", export / MOODLE["s01"] / f"{STEM}.ipynb")
    os.symlink(c / "source" / STEM / f"{STEM}.ipynb", export / MOODLE["s02"] / f"{STEM}.ipynb")
    os.symlink(private, export / MOODLE["s03"])                                     # a whole folder linked
    os.mkfifo(export / MOODLE["s04"] / f"{STEM}.ipynb")                            # reading it would block
    (export / f"s05_{STEM}.ipynb").write_bytes(SOLVED)
    got = course.collect(c, STEM, export)
    assert got["students"] == ["s05"]
    assert sorted((p["student"], p["kind"]) for p in got["problems"]) == [
        ("s01", "symlink"), ("s02", "symlink"), ("s03", "symlink"), ("s04", "not-a-file")]
    stored = b"".join(p.read_bytes() for p in (c / "uploads" / STEM / "files").iterdir())
    solution = (c / "source" / STEM / f"{STEM}.ipynb").read_bytes()
    assert b"root:" not in stored and b"PRIVATE" not in stored and solution not in stored
    rows = rows_of(c)
    for sid in ("s01", "s02", "s03"):
        assert rows[sid]["status"] == "missing" and "not collected: a symbolic link" in rows[sid]["message"], rows[sid]
        assert "심볼릭 링크" in rows[sid]["message_ko"]
    assert "not a regular file" in rows["s04"]["message"]
    assert course.collect(c, STEM, export)["problems"] and len(manifest(c)["problems"]) == 4  # kept once


def test_a_link_placed_in_submitted_is_neither_collected_nor_graded(c):
    folder = c / "submitted" / "s06" / STEM
    folder.mkdir(parents=True)
    os.symlink(c / "source" / STEM / f"{STEM}.ipynb", folder / f"{STEM}.ipynb")
    got = course.collect(c, STEM)
    assert [(p["student"], p["kind"]) for p in got["problems"]] == [("s06", "symlink")]
    assert intake.find_notebook(folder, STEM)[0] is None
    e = {"notes": []}
    with pytest.raises(intake.Refused, match="no notebook"):
        course._stage(folder, "s06", STEM, notebooks.read(c / "release" / STEM / f"{STEM}.ipynb"), c / "w", e)


# ------------------------------------------------------------------ 6. corrupt and size-lying members
def test_a_size_lying_zip_bomb_and_a_corrupt_member_are_problems_of_their_uploads(c, tmp_path):
    good = deflate(SOLVED)
    broken = bytearray(deflate(SOLVED))
    broken[len(broken) // 2] ^= 0xFF
    bomb = deflated_zeros(2 << 30)                       # 2 GiB of zeros in ~2 MiB, declared as 1000 bytes
    assert len(bomb) < 8 << 20
    z = raw_zip(tmp_path / "export.zip", [
        {"name": f"{MOODLE['s01']}/{STEM}.ipynb".encode(), "data": good, "method": 8, "crc": zlib.crc32(SOLVED),
         "size": len(SOLVED), "flags": 0x800},
        {"name": f"{MOODLE['s02']}/{STEM}.ipynb".encode(), "data": bomb, "method": 8, "crc": 0, "size": 1000},
        {"name": f"s04_{STEM}.ipynb".encode(), "data": bytes(broken), "method": 8, "crc": zlib.crc32(SOLVED),
         "size": len(SOLVED)},
        {"name": f"s05_{STEM}.ipynb".encode(), "data": good, "method": 8, "crc": zlib.crc32(SOLVED), "size": len(SOLVED)},
    ])
    out = in_child(MEASURED_COLLECT, str(c), str(z))
    assert out["students"] == ["s01", "s05"]
    assert [(p[2], p[1]) for p in out["problems"]] == [("s02", "corrupt"), ("s04", "corrupt")]
    assert out["grew_mib"] < 64, out                   # reading all of it at once took 2.2 GB
    rows = rows_of(c)
    assert "this member of the archive is corrupt" in rows["s02"]["message"] and rows["s02"]["status"] == "missing"
    assert "this member of the archive is corrupt" in rows["s04"]["message"]


def test_the_size_cap_counts_what_is_inflated_not_what_the_header_says(c, tmp_path):
    bomb = deflated_zeros(64 << 20)
    z = raw_zip(tmp_path / "export.zip", [   # declares 300 MiB (more than it holds), inflates 64 MiB; the cap is 8 MiB
        {"name": f"s02_{STEM}.ipynb".encode(), "data": bomb, "method": 8, "crc": 0, "size": 300 << 20},
        {"name": f"s05_{STEM}.ipynb".encode(), "data": SOLVED}])
    out = in_child(MEASURED_COLLECT, str(c), str(z), str(8 << 20))
    assert out["students"] == ["s05"] and [(p[2], p[1]) for p in out["problems"]] == [("s02", "too-large")]
    assert "larger than the 8 MiB limit" in rows_of(c)["s02"]["message"]


# ------------------------------------------------------------------ 7. nested zips, cp949, '../', over the cap
def export_members() -> dict[str, bytes]:
    return {f"{MOODLE['s01']}/work.zip": nested(1, f"{STEM}.ipynb", SOLVED),
            f"{MOODLE['s02']}/{STEM}.ipynb": SOLVED + b" " * (2 << 20),            # over a 1 MiB cap
            f"s06_{STEM}.zip": nested(4, f"{STEM}.ipynb", SOLVED)}                 # deeper than MAX_NESTING


def test_zip_mode_unpacks_nested_zips_reads_cp949_names_and_keeps_every_problem(c, tmp_path, monkeypatch):
    monkeypatch.setattr(intake, "MAX_UPLOAD", 1 << 20)
    members = [{"name": name.encode(), "data": data, "flags": 0x800} for name, data in export_members().items()]
    members += [
        {"name": f"{MOODLE['s03']}/Copy of {STEM}.ipynb".encode("cp949"), "data": SOLVED},   # Korean Windows: no UTF-8 flag
        {"name": f"../../s04_{STEM}.ipynb".encode(), "data": SOLVED},                        # a path leaving the archive
        {"name": f"s05_{STEM}.ipynb".encode(), "data": b"/etc/passwd", "mode": stat.S_IFLNK | 0o777},  # a stored link
        {"name": f"__MACOSX/._s05_{STEM}.ipynb".encode(), "data": b"junk"},
    ]
    got = course.collect(c, STEM, raw_zip(tmp_path / "export.zip", members))
    assert got["students"] == ["s01", "s03", "s04"]
    assert sorted((p["student"], p["kind"]) for p in got["problems"]) == [
        ("s02", "too-large"), ("s05", "symlink"), ("s06", "nested-too-deep")]
    man = manifest(c)
    s01 = next(u for u in man["uploads"] if u["student"] == "s01")
    assert s01["source"] == f"{MOODLE['s01']}/work.zip!{STEM}.ipynb" and s01["status"] == "chosen"
    s03 = next(u for u in man["uploads"] if u["student"] == "s03")
    assert s03["source"] == f"{MOODLE['s03']}/Copy of {STEM}.ipynb" and "member" not in s03
    s04 = next(u for u in man["uploads"] if u["student"] == "s04")
    assert s04["source"] == f"s04_{STEM}.ipynb" and s04["member"] == f"../../s04_{STEM}.ipynb"
    rows = rows_of(c)
    assert "points outside the archive" in rows["s04"]["message"]
    assert rows["s02"]["status"] == "missing" and "larger than the 1 MiB limit" in rows["s02"]["message"]
    assert "nested more than 3 levels" in rows["s06"]["message"] and "symbolic link" in rows["s05"]["message"]
    assert not any(r["status"] == "unmatched" for r in rows.values())  # the __MACOSX litter is no upload


def test_folder_mode_gives_what_zip_mode_gives(c, tmp_path, monkeypatch):
    monkeypatch.setattr(intake, "MAX_UPLOAD", 1 << 20)
    export = tmp_path / "export"
    for name, data in export_members().items():
        (export / name).parent.mkdir(parents=True, exist_ok=True)
        (export / name).write_bytes(data)
    korean = os.fsencode(export) + b"/" + MOODLE["s03"].encode("cp949")   # what unzip leaves from a cp949 zip
    os.mkdir(korean)
    with open(korean + f"/Copy of {STEM}.ipynb".encode(), "wb") as fh:
        fh.write(SOLVED)
    got = course.collect(c, STEM, export)
    assert got["students"] == ["s01", "s03"]
    assert sorted((p["student"], p["kind"]) for p in got["problems"]) == [("s02", "too-large"), ("s06", "nested-too-deep")]
    sources = {u["student"]: u["source"] for u in manifest(c)["uploads"]}
    assert sources["s01"] == f"{MOODLE['s01']}/work.zip!{STEM}.ipynb"
    assert sources["s03"] == f"{MOODLE['s03']}/Copy of {STEM}.ipynb"


def test_member_names_are_decoded_as_their_zipping_computer_wrote_them():
    info = zipfile.ZipInfo("x")
    for raw, flags, want in [("김서연/a.ipynb".encode("cp949"), 0, "김서연/a.ipynb"),     # Korean Windows
                             ("김서연/a.ipynb".encode("utf-8"), 0, "김서연/a.ipynb"),     # macOS, no flag
                             (b"plain.ipynb", 0, "plain.ipynb")]:
        info.filename, info.flag_bits = raw.decode("cp437"), flags
        assert intake.member_name(info) == want


# ------------------------------------------------------------------ 8. memory bounded by the largest member
def test_collect_memory_stays_below_one_member(c, tmp_path):
    size = 48 << 20
    with zipfile.ZipFile(tmp_path / "big.zip", "w", zipfile.ZIP_DEFLATED, compresslevel=1) as zf:
        for i in range(6):   # 288 MiB in all; each member different, so each is stored
            zf.writestr(f"s0{i + 1}_{STEM}.ipynb", b"%d" % i + bytes(size))
    out = in_child(MEASURED_COLLECT, str(c), str(tmp_path / "big.zip"))
    assert out["students"] == [f"s0{i + 1}" for i in range(6)] and not out["problems"]
    assert out["grew_mib"] < 48, out   # the whole export in memory would be 288 MiB
    files = list((c / "uploads" / STEM / "files").iterdir())
    assert len(files) == 6 and all(f.stat().st_size == size + 1 for f in files)
    assert not list((c / "uploads" / STEM).glob(".incoming-*"))   # the spool is gone
