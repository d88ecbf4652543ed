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
# first, so that the range `torch>=2.2.2` in pyproject.toml does not pull a multi-GB CUDA build.
if ! python -c "import torch" 2>/dev/null; then
  python -m pip install -q "torch==2.13.0" 2>/dev/null \
    || python -m pip install -q torch --index-url https://download.pytorch.org/whl/cpu
fi
python -m pip install -q -e ".[data,test]" -e ./tools   # the library, then the tools (tools/pyproject.toml)

# Debian packages, as root only: Chromium for the browser tests (never a browser download);
# bubblewrap, the sandbox every submission is graded in; PostgreSQL, for the gradebook test of the
# JupyterHub recipe (the test starts its own throwaway server on 127.0.0.1).
if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
  missing=()
  command -v chromium >/dev/null 2>&1 || missing+=(chromium)
  command -v bwrap >/dev/null 2>&1 || missing+=(bubblewrap)
  command -v prlimit >/dev/null 2>&1 || missing+=(util-linux)
  compgen -G "/usr/lib/postgresql/*/bin/pg_ctl" >/dev/null || missing+=(postgresql)
  if [ ${#missing[@]} -gt 0 ]; then
    apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  fi
fi

# nbgrader's JupyterLab extension (assignment list, validate, formgrader, course list) and its
# server extensions: pip installs them; enable them explicitly so a stale config cannot hide them.
jupyter labextension enable @jupyter/nbgrader >/dev/null
for ext in formgrader assignment_list validate_assignment course_list; do
  jupyter server extension enable --sys-prefix "nbgrader.server_extensions.$ext" >/dev/null
done
python -c "import dlbook, dlbook_tools, torch; print('dlbook', dlbook.__version__, '· torch', torch.__version__, '· device', dlbook.device())"
