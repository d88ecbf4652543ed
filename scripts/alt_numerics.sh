#!/usr/bin/env bash
# Run a command under CPU numerics other than this machine's defaults, to prove that a checked output
# is a fact and not one machine's rounding: ATen's generic kernels instead of its AVX2/AVX-512 ones,
# oneDNN capped at AVX2, MKL in its reproducible COMPATIBLE code path, and two threads.
#   bash scripts/alt_numerics.sh python -m pytest chapters/en/05_perceptron.ipynb --nbval-lax
# CI runs the English edition this way and the Korean one under the defaults (scripts/test.sh).
set -euo pipefail
export ATEN_CPU_CAPABILITY=default ONEDNN_MAX_CPU_ISA=AVX2 MKL_CBWR=COMPATIBLE OMP_NUM_THREADS=2
# Not numerics but speed: waiting OpenMP threads sleep instead of spinning. With pytest-xdist's workers
# sharing the cores, one kernel's spinning threads starved the other's (chapter 14: 262 s instead of 90 s).
export OMP_WAIT_POLICY=PASSIVE
exec "$@"
