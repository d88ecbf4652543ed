#!/usr/bin/env bash
# Install everything the book needs, into ./.venv unless a virtual environment is active.
# Safe to run again: it only adds what is missing. Source it to keep the environment active.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

if [ -z "${VIRTUAL_ENV:-}" ]; then
  [ -x .venv/bin/python ] || "${PYTHON:-python3}" -m venv .venv
  # shellcheck disable=SC1091
  . .venv/bin/activate
fi
python -m pip install -q --upgrade pip

# PyTorch: keep one that is already there (Colab, a CUDA install); otherwise put a CPU build in
# first, so that the range `torch>=2.2` in pyproject.toml does not pull a multi-GB CUDA build.
if ! python -c "import torch" 2>/dev/null; then
  python -m pip install -q "torch==2.13.0" 2>/dev/null \
    || python -m pip install -q torch --index-url https://download.pytorch.org/whl/cpu
fi
python -m pip install -q -e ".[data,book,course,test]"

# Debian's Chromium for the browser tests (never a browser download).
if ! command -v chromium >/dev/null 2>&1 && command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
  apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
fi
python -c "import dlbook, dlbook_tools, torch; print('dlbook', dlbook.__version__, '· torch', torch.__version__, '· device', dlbook.device())"
