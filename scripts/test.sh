#!/usr/bin/env bash
# Install what is needed, build the book, and run the whole test suite:
# the library's tests, the book's checks, every notebook under chapters/ and solutions/ (nbval),
# the exercise pipeline with real autograding, and the browser tests of the built HTML.
# On a CUDA machine the notebooks train on the GPU (dlbook.device()); scripts/gpu_check.sh is the
# offline GPU check (see README).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
. scripts/install.sh
export DLBOOK_PROGRESS=0
dlbook-tools check
echo "[test.sh] installed and checked after ${SECONDS}s"
# One worker per core (each single-threaded); --dist loadfile keeps a notebook or test module in one worker.
# The Korean edition runs under this machine's default numerics, the English edition under others
# (scripts/alt_numerics.sh): both must reproduce the stored checked outputs. Each chapter runs once:
# nbval keeps what it executed (dlbook_tools.executed) and the book is then built from those outputs.
status=0
rm -rf _build/executed
KEEP=(-p dlbook_tools.executed --dlbook-save-executed _build/executed)
OMP_NUM_THREADS=1 DLBOOK_REQUIRE_SANDBOX=1 python -m pytest tests chapters/ko solutions --nbval-lax -m "not browser" \
  --ignore=tests/test_edition_language.py "${KEEP[@]}" -p no:cacheprovider -n auto --dist loadfile --durations=15 "$@" \
  || status=$?
echo "[test.sh] tests, Korean edition and solutions done after ${SECONDS}s"
bash scripts/alt_numerics.sh python -m pytest chapters/en --nbval-lax "${KEEP[@]}" -p no:cacheprovider -n auto \
  --dist loadfile --durations=15 "$@" || status=$?
echo "[test.sh] English edition done after ${SECONDS}s"
dlbook-tools book --pdf
echo "[test.sh] book built after ${SECONDS}s"
# What reads the built book: the browser tests and the figures' languages.
OMP_NUM_THREADS=1 DLBOOK_REQUIRE_BROWSER=1 python -m pytest tests/test_book_html.py tests/test_edition_language.py \
  -p no:cacheprovider -n auto --dist loadfile --durations=15 "$@" || status=$?
echo "[test.sh] browser tests done after ${SECONDS}s (status $status)"
exit "$status"
