#!/usr/bin/env bash
# Install what is needed, build the book, and run the whole test suite:
# the library's tests, the book's checks, every notebook under chapters/ and solutions/ (nbval),
# the exercise pipeline with real autograding, and the browser tests of the built HTML.
# On a CUDA machine the same command runs the library tests and the notebooks on the GPU.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
. scripts/install.sh
export DLBOOK_PROGRESS=0
dlbook-tools check
dlbook-tools book
# One worker per core (each single-threaded); --dist loadfile keeps a notebook or test module in one worker.
# The Korean edition runs under this machine's default numerics, the English edition under others
# (scripts/alt_numerics.sh): both must reproduce the stored checked outputs.
status=0
OMP_NUM_THREADS=1 DLBOOK_REQUIRE_BROWSER=1 DLBOOK_REQUIRE_SANDBOX=1 python -m pytest tests chapters/ko solutions --nbval-lax \
  -p no:cacheprovider -n auto --dist loadfile "$@" || status=$?
bash scripts/alt_numerics.sh python -m pytest chapters/en --nbval-lax -p no:cacheprovider -n auto --dist loadfile "$@" \
  || status=$?
exit "$status"
