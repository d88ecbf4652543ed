"""`course collect` at scale: peak memory and time for an LMS zip of N large members (opt-in).

    python bench/bench_collect.py                 # 12 members of 160 MiB (the export of issue 17)
    python bench/bench_collect.py --n 4 --mib 64

Each member is a different file of mostly zeros (deflated, so the zip itself is small), named
for one student of the corpus roster; collect runs in a child process, whose peak resident memory
(``ru_maxrss``) before and during the collect is printed. Collect streams every member to disk
while hashing it, so the growth stays near one read buffer, far below one member; it once held
the whole export in memory. ``python bench/run.py`` skips this module; run it directly.
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
CORPUS = ROOT / "tests" / "corpus" / "05_perceptron"
STEM = "05_perceptron"

CHILD = """
import json, resource, sys, time
from pathlib import Path
from dlbook_tools import course
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
t = time.perf_counter()
got = course.collect(Path(sys.argv[1]), "05_perceptron", Path(sys.argv[2]))
print(json.dumps({"before_mib": before / 1024, "peak_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                  "seconds": time.perf_counter() - t, "students": len(got["students"]), "problems": len(got["problems"])}))
"""


def rows():
    """Opt-in only: ``bench/run.py`` runs every module's rows(); this one writes gigabytes."""
    print("  bench_collect: skipped (opt-in: python bench/bench_collect.py)", file=sys.stderr)
    return []


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=12, help="members (at most the roster's 25)")
    ap.add_argument("--mib", type=int, default=160, help="size of each member in MiB")
    args = ap.parse_args()
    from dlbook_tools import course

    with tempfile.TemporaryDirectory(prefix="bench-collect-") as tmp:
        tmp = Path(tmp)
        c = course.init_course(tmp / "course", [STEM], roster=CORPUS / "roster.csv")
        export = tmp / "export.zip"
        with zipfile.ZipFile(export, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as zf:
            for i in range(args.n):
                with zf.open(f"s{i + 1:02d}_{STEM}.ipynb", "w") as out:   # written in pieces: the bench itself stays small
                    out.write(b"%d" % i)
                    for _ in range(args.mib):
                        out.write(bytes(1 << 20))
        r = subprocess.run([sys.executable, "-c", CHILD, str(c), str(export)], capture_output=True, text=True, check=True)
        got = json.loads(r.stdout.strip().splitlines()[-1])
    total = args.n * args.mib
    print(f"collect of {args.n} members x {args.mib} MiB ({total} MiB): {got['seconds']:.1f} s, "
          f"peak RSS {got['peak_mib']:.0f} MiB ({got['peak_mib'] - got['before_mib']:+.0f} MiB over the "
          f"{got['before_mib']:.0f} MiB before collecting); {got['students']} students, {got['problems']} problems")


if __name__ == "__main__":
    t = time.perf_counter()
    main()
    print(f"({time.perf_counter() - t:.0f} s in all)", file=sys.stderr)
