"""Grading at scale: N submissions of one exercise, graded four ways (not a test; opt-in).

    python bench/bench_grading.py                 # 100 submissions of 05_perceptron
    python bench/bench_grading.py --n 20 --jobs 4

Wall time of: plain sequential ``nbgrader autograde`` (nbgrader's own pipeline, no sandbox, no
repairs); ``dlbook-tools course autograde`` sequentially (``--jobs 1``) without and with the
sandbox; and in parallel (``--jobs`` = every core). The difference between the two sequential kit
runs is the sandbox's overhead; the start of one sandboxed and one plain kernel is timed as well.
Submissions are the corpus's correct, partly wrong and untouched notebooks, repeated.
``python bench/run.py`` skips this module (it grades for minutes); run it directly.
"""
from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
CORPUS = ROOT / "tests" / "corpus" / "05_perceptron" / "uploads"
STEM = "05_perceptron"
PLAIN_CONFIG = '''\
from dlbook_tools.grading import CODE_STUB, TEXT_STUB
c = get_config()
c.CourseDirectory.course_id = "bench"
c.ClearSolutions.code_stub = {"python": CODE_STUB}
c.ClearSolutions.text_stub = TEXT_STUB
c.Execute.timeout = 120
'''


def rows():
    """Opt-in only: ``bench/run.py`` runs every module's rows(); this one would take many minutes."""
    print("  bench_grading: skipped (opt-in: python bench/bench_grading.py)", file=sys.stderr)
    return []


def submissions(n: int) -> list[tuple[str, Path]]:
    pool = [CORPUS / "Minjun Kim_1001_assignsubmission_file_" / f"{STEM}.ipynb",
            CORPUS / "김서연_1003_assignsubmission_file_" / f"Copy of {STEM}.ipynb",
            CORPUS / f"s02_20002_9002_{STEM}.ipynb"]
    return [(f"u{i:03d}", pool[i % len(pool)]) for i in range(n)]


def kit_course(where: Path, subs, **kw) -> Path:
    from dlbook_tools import course

    c = course.init_course(where, [STEM], students=[s for s, _ in subs], **kw)
    for sid, nb in subs:
        course.submit(c, STEM, sid, nb)
    return c


def plain_course(where: Path, subs) -> Path:
    from dlbook_tools import course

    where.mkdir(parents=True)
    (where / "nbgrader_config.py").write_text(PLAIN_CONFIG, encoding="utf-8")
    (where / "source" / STEM).mkdir(parents=True)
    shutil.copy2(ROOT / "solutions" / f"{STEM}.ipynb", where / "source" / STEM / f"{STEM}.ipynb")
    course.nbgrader(where, "generate_assignment", STEM, "--force")
    for sid, nb in subs:
        course.submit(where, STEM, sid, nb)
    return where


def kernel_start(sandboxed: bool, times: int = 3) -> float:
    """Median seconds to start a kernel and run ``1 + 1``."""
    import nbformat
    from nbclient import NotebookClient

    from dlbook_tools import sandbox as sb

    out = []
    for _ in range(times):
        nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("1 + 1")])
        t = time.perf_counter()
        if sandboxed:
            with tempfile.TemporaryDirectory() as tmp:
                km = sb.kernel_manager(sb.Sandbox(Path(tmp)))
                client = NotebookClient(nb, km=km)
                with client.setup_kernel(cleanup_kc=True):
                    client.execute_cell(nb.cells[0], 0)
        else:
            NotebookClient(nb, kernel_name="python3").execute()
        out.append(time.perf_counter() - t)
    return statistics.median(out)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--n", type=int, default=100, help="submissions (default 100)")
    p.add_argument("--jobs", type=int, default=os.cpu_count(), help="parallel sandboxes (default: every core)")
    p.add_argument("--skip-plain", action="store_true", help="skip plain nbgrader (the slowest part)")
    args = p.parse_args(argv)
    from dlbook_tools import course
    from dlbook_tools import sandbox as sb

    reason = sb.unavailable()
    if reason:
        sys.exit(f"the sandbox cannot run here: {reason}")
    subs = submissions(args.n)
    results = []
    with tempfile.TemporaryDirectory(prefix="dlbook-bench-") as tmp:
        tmp = Path(tmp)
        if not args.skip_plain:
            c = plain_course(tmp / "plain", subs)
            t = time.perf_counter()
            course.nbgrader(c, "autograde", STEM, "--force")
            results.append(("plain `nbgrader autograde` (sequential, no sandbox)", time.perf_counter() - t, 1))
        for label, jobs, sandbox in (("kit, --jobs 1, no sandbox", 1, False), ("kit, --jobs 1, sandboxed", 1, True),
                                     (f"kit, --jobs {args.jobs}, sandboxed", args.jobs, True)):
            c = kit_course(tmp / label.replace(" ", "").replace(",", "_"), subs)
            t = time.perf_counter()
            rep = course.autograde(c, STEM, jobs=jobs, sandbox=sandbox)
            results.append((label, time.perf_counter() - t, jobs))
            assert all(r["status"] == "graded" for r in rep["students"]), [r for r in rep["students"] if r["status"] != "graded"]
        k_plain, k_box = kernel_start(False), kernel_start(True)
    print(f"\n{args.n} submissions of {STEM} on {os.cpu_count()} core(s)")
    print(f"{'run':<55}{'wall (s)':>10}{'per submission (s)':>20}")
    for label, sec, _ in results:
        print(f"{label:<55}{sec:>10.1f}{sec / args.n:>20.2f}")
    seq = {label: sec for label, sec, _ in results}
    if "kit, --jobs 1, sandboxed" in seq:
        over = seq["kit, --jobs 1, sandboxed"] - seq["kit, --jobs 1, no sandbox"]
        print(f"\nsandbox overhead, sequential: {over:.1f} s in all, {over / args.n:.2f} s per submission")
    print(f"kernel start + `1 + 1`: plain {k_plain:.2f} s, sandboxed {k_box:.2f} s (median of 3)")
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT / "lib"))
    sys.exit(main())
