#!/usr/bin/env bash
# The GPU check: the library's tests and every chapter notebook on CUDA, plus a determinism probe,
# on a machine with no network (about 8 minutes on a 16-core CUDA machine).
#
#   bash scripts/gpu_check.sh --prepare     # on a networked machine: fill .gpu_wheels/ (no torch, numpy, scipy,
#                                           #   pandas or matplotlib: the CUDA machine has those)
#   bash scripts/gpu_check.sh               # on the CUDA machine, with .gpu_wheels/ beside the checkout
#   bash scripts/gpu_check.sh --dry-run --quick   # rehearsal on the CPU (one chapter, a few test modules)
#
# Steps: (1) install what is missing from .gpu_wheels/ (`pip install --no-index`) and the project itself
# (`pip install --no-deps -e .`, so the machine's CUDA torch is kept); (2) the library's tests on CUDA
# (the book, browser, course-kit and exercise tests need jupyter-book, Chromium and bubblewrap and are
# left out); (3) every notebook of chapters/ko and chapters/en under nbval with DLBOOK_DEVICE=cuda;
# (4) a determinism probe (dlbook.train.fit twice on CUDA, and once on the CPU); (5) a table
# chapter → seconds → facts ok. Everything is written to ${OUT:-_build/gpu_check}.
# Without CUDA it stops with an error, unless --dry-run (same steps on the CPU, DLBOOK_DEVICE unset).
# Options: --quick (one chapter: $GPU_CHECK_CHAPTER, default 02_tensors; and a few test modules),
#          --install-only (step 1 only), --jobs N (pytest workers; default min(8, cores)).
# Python: $PYTHON, else the active virtual environment, else ./.venv, else `python3`. Step time limits (seconds): GPU_CHECK_TESTS_TIMEOUT (150),
# GPU_CHECK_NOTEBOOKS_TIMEOUT (250), GPU_CHECK_PROBE_TIMEOUT (60); a dry run on a small CPU machine
# gets 1200, 1800 and 600.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
ROOT=$PWD
WHEELS=$ROOT/.gpu_wheels
# the interpreter: $PYTHON, else the active virtual environment's, else ./.venv's (scripts/install.sh), else python3
if [ -n "${PYTHON:-}" ]; then PY=$PYTHON
elif [ -n "${VIRTUAL_ENV:-}" ] && [ -x "$VIRTUAL_ENV/bin/python" ]; then PY=$VIRTUAL_ENV/bin/python
elif [ -x .venv/bin/python ]; then PY=$ROOT/.venv/bin/python
else PY=python3
fi
MAX_WHEELS_MIB=50

# What a CUDA machine with torch, numpy, scipy, pandas, matplotlib, scikit-learn, statsmodels, tqdm, pytest
# and pytest-xdist lacks to run the book: the closure of these requirements, pinned (resolved for
# CPython 3.12 against such an environment), downloaded with --no-deps so nothing heavy comes along.
TOP=(nbval nbclient nbformat ipykernel ipywidgets koreanize-matplotlib mlxtend)
PINNED=(
  nbval==0.11.0 nbclient==0.11.0 nbformat==5.11.1 ipykernel==7.4.0 ipywidgets==8.1.9
  koreanize-matplotlib==0.1.1 mlxtend==0.25.0 setuptools==84.2.1
  comm==0.2.3 debugpy==1.8.22 fastjsonschema==2.22.3 ipython==9.18.1 jsonschema==4.26.0
  jupyter_client==8.10.0 jupyter_core==5.9.1 jupyterlab_widgets==3.0.17 matplotlib-inline==0.2.2
  nest-asyncio2==1.7.4 pyzmq==27.3.0 tornado==6.6.1 traitlets==5.16.1 widgetsnbextension==4.0.16
  coverage==7.17.5 attrs==26.1.0 ipython_pygments_lexers==1.1.1 jedi==0.20.1
  jsonschema-specifications==2025.9.1 pexpect==4.9.0 platformdirs==4.14.9 prompt_toolkit==3.0.53
  psutil==7.2.2 referencing==0.37.0 rpds-py==2026.9.1 stack-data==0.6.3 asttokens==3.0.2
  executing==2.3.0 parso==0.8.7 ptyprocess==0.7.0 wcwidth==0.9.4 pure_eval==0.2.4
  # small ones such a machine normally has already (pytest, pandas, torch bring them); here in case
  packaging==26.4 Pygments==2.21.0 python-dateutil==4.0.0 six==1.17.0 typing_extensions==4.16.0
)
# not the library: the book's tooling (jupyter-book, Chromium, bubblewrap, nbgrader, PyYAML, Sphinx: every
# test module that imports dlbook_tools), the documentation's commands, and pip against a package index
IGNORE=(tests/test_book_html.py tests/test_course_kit.py tests/test_exercises.py tests/test_editions.py
        tests/test_docs.py tests/test_install.py)
while IFS= read -r f; do IGNORE+=("$f"); done < <(grep -l 'dlbook_tools' tests/test_*.py | sort)

die() { echo "gpu_check: $*" >&2; exit 2; }
say() { printf '\n== %s\n' "$*"; }
# pip without this machine's configuration (its indexes, find-links, constraints): only .gpu_wheels/
offline_pip() {
  env -u PIP_FIND_LINKS -u PIP_INDEX_URL -u PIP_EXTRA_INDEX_URL -u PIP_CONSTRAINT PIP_CONFIG_FILE=/dev/null \
    PIP_BREAK_SYSTEM_PACKAGES=1 PIP_ROOT_USER_ACTION=ignore PIP_DISABLE_PIP_VERSION_CHECK=1 \
    "$PY" -m pip install --no-index --find-links "$WHEELS" "$@"
}

mode=run dry=0 quick=0 jobs=""
while [ $# -gt 0 ]; do
  case $1 in
    --prepare) mode=prepare ;;
    --install-only) mode=install ;;
    --dry-run) dry=1 ;;
    --quick) quick=1 ;;
    --jobs) jobs=${2:?--jobs needs a number}; shift ;;
    -h|--help) sed -n '2,22p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown option $1 (see --help)" ;;
  esac
  shift
done

# ---------------------------------------------------------------- --prepare (networked machine)
if [ "$mode" = prepare ]; then
  rm -rf "$WHEELS" && mkdir -p "$WHEELS"
  wanted=()
  for p in "${PINNED[@]}"; do wanted+=("$p"); done
  "$PY" -m pip download -q --no-deps --only-binary=:all: --python-version 3.12 --implementation cp \
    --platform manylinux_2_28_x86_64 --platform manylinux2014_x86_64 -d "$WHEELS" "${wanted[@]}"
  count=$(find "$WHEELS" -name '*.whl' | wc -l)
  kib=$(du -sk "$WHEELS" | cut -f1)
  printf 'gpu_check: %s wheels in %s, %s MiB (limit %s MiB)\n' "$count" "${WHEELS#"$ROOT"/}" \
    "$(awk -v k="$kib" 'BEGIN { printf "%.1f", k / 1024 }')" "$MAX_WHEELS_MIB"
  if find "$WHEELS" -iname 'torch-*' -o -iname 'numpy-*' -o -iname 'scipy-*' -o -iname 'pandas-*' \
      -o -iname 'matplotlib-[0-9]*' | grep -q .; then
    die "a heavy package slipped into $WHEELS"
  fi
  [ "$kib" -lt $((MAX_WHEELS_MIB * 1024)) ] || die "$WHEELS is over $MAX_WHEELS_MIB MiB"
  exit 0
fi

# ---------------------------------------------------------------- CUDA or not
command -v "$PY" >/dev/null 2>&1 || die "no Python '$PY' (set PYTHON)"
cuda=$("$PY" -c 'import torch; print(int(torch.cuda.is_available()))' 2>/dev/null) \
  || die "'$PY' cannot import torch: the GPU check needs the machine's CUDA build of PyTorch"
if [ "$cuda" != 1 ] && [ "$dry" = 0 ] && [ "$mode" = run ]; then
  die "CUDA is not available to $PY (torch $("$PY" -c 'import torch; print(torch.__version__)'), torch.cuda.is_available() is False): this is the GPU check; use --dry-run to rehearse it on the CPU, or set PYTHON to the CUDA machine's Python"
fi

# ---------------------------------------------------------------- (1) install, offline
say "install from ${WHEELS#"$ROOT"/} (no network)"
[ -d "$WHEELS" ] || die "no $WHEELS: run 'bash scripts/gpu_check.sh --prepare' on a networked machine first (and carry the folder along)"
torch_before=$("$PY" -c 'import torch; print(torch.__version__)')
offline_pip -q "${TOP[@]}" || die "the offline install failed: $WHEELS lacks a wheel this machine needs (see above)"
if [ "$dry" = 1 ] && "$PY" -c 'import dlbook, sys, pathlib; sys.exit(pathlib.Path(dlbook.__file__).resolve().parents[1] != pathlib.Path("lib").resolve())' 2>/dev/null; then
  echo "dlbook is already installed from this checkout (not reinstalled in a dry run)"
else
  offline_pip -q --no-deps -e . || die "pip install --no-deps -e . failed"
fi
torch_after=$("$PY" -c 'import torch; print(torch.__version__)')
[ "$torch_before" = "$torch_after" ] || die "the install changed torch: $torch_before → $torch_after"
"$PY" -c 'import dlbook, torch, nbval, ipykernel, ipywidgets, koreanize_matplotlib, mlxtend
print("dlbook", dlbook.__version__, "· torch", torch.__version__, "· CUDA", torch.version.cuda,
      "·", torch.cuda.get_device_name(0) if torch.cuda.is_available() else "no GPU", "· ipywidgets", ipywidgets.__version__)'
[ "$mode" = install ] && exit 0

# ---------------------------------------------------------------- run
OUT=${OUT:-$ROOT/_build/gpu_check}
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
cores=$(nproc 2>/dev/null || echo 2)
[ -n "$jobs" ] || jobs=$(( cores < 8 ? cores : 8 ))
threads=$(( cores / jobs )); [ "$threads" -ge 1 ] || threads=1
export DLBOOK_PROGRESS=0 OMP_NUM_THREADS=$threads MPLBACKEND=Agg PYTHONDONTWRITEBYTECODE=1
if [ "$dry" = 1 ]; then
  unset DLBOOK_DEVICE; nb_device=(); limits=(1200 1800 600)
else
  nb_device=(DLBOOK_DEVICE=cuda); limits=(150 250 60)
fi
"$PY" -c 'import torch, platform; print("python", platform.python_version(), "· torch", torch.__version__,
  "· cuda", torch.cuda.is_available(), torch.cuda.get_device_name(0) if torch.cuda.is_available() else "")' > "$OUT/machine.txt"
echo "workers $jobs × $threads threads · dry run $dry · quick $quick" >> "$OUT/machine.txt"
echo "interpreter $PY" >> "$OUT/machine.txt"
cat "$OUT/machine.txt"

# a pytest plugin that writes every test report as it comes (survives a time limit)
mkdir -p "$OUT/plugin"
cat > "$OUT/plugin/gpu_check_log.py" <<'EOF'
import json, os, time

def pytest_runtest_logreport(report):
    path = os.environ.get("GPU_CHECK_LOG")
    if path and not os.environ.get("PYTEST_XDIST_WORKER"):
        with open(path, "a", encoding="utf-8") as f:
            f.write(json.dumps({"nodeid": report.nodeid, "when": report.when, "outcome": report.outcome,
                                "duration": report.duration, "t": time.time()}) + "\n")
EOF
export PYTHONPATH="$OUT/plugin${PYTHONPATH:+:$PYTHONPATH}"

failed=()
run_step() {  # name timeout command...
  local name=$1 limit=$2; shift 2
  local start=$SECONDS rc=0
  say "$name (limit ${limit}s) → $OUT/$name.log"
  GPU_CHECK_LOG="$OUT/$name.jsonl" timeout --kill-after=15 "$limit" "$@" > "$OUT/$name.log" 2>&1 || rc=$?
  tail -n 15 "$OUT/$name.log"
  echo "$name: exit $rc after $((SECONDS - start)) s" | tee -a "$OUT/steps.txt"
  if [ "$rc" = 124 ] || [ "$rc" = 137 ]; then echo "$name: stopped at its time limit"; fi
  [ "$rc" = 0 ] || failed+=("$name (exit $rc)")
}
rm -f "$OUT"/*.jsonl "$OUT/steps.txt"

# (2) the library's tests
if [ "$quick" = 1 ]; then
  tests=(tests/test_runtime.py tests/test_conv.py)
else
  tests=(tests); for f in "${IGNORE[@]}"; do tests+=(--ignore="$f"); done
  printf '%s\n' "${IGNORE[@]}" | sort -u > "$OUT/ignored_tests.txt"
fi
deselect=()
"$PY" -c 'import tensorboard' 2>/dev/null || deselect=(--deselect tests/test_train.py::test_tensorboard_scalars_and_histograms)
run_step library_tests "${GPU_CHECK_TESTS_TIMEOUT:-${limits[0]}}" "$PY" -m pytest "${tests[@]}" "${deselect[@]}" -q \
  -p no:cacheprovider -p gpu_check_log -n "$jobs" --dist loadfile --durations=20 --junitxml="$OUT/library_tests.xml"

# (3) every chapter notebook under nbval
if [ "$quick" = 1 ]; then
  chapter=${GPU_CHECK_CHAPTER:-02_tensors}
  notebooks=(chapters/ko/"$chapter".ipynb chapters/en/"$chapter".ipynb)
else
  notebooks=(chapters/ko/*.ipynb chapters/en/*.ipynb)
fi
printf '%s\n' "${notebooks[@]}" > "$OUT/notebooks.txt"
run_step notebooks "${GPU_CHECK_NOTEBOOKS_TIMEOUT:-${limits[1]}}" env "${nb_device[@]}" "$PY" -m pytest "${notebooks[@]}" \
  --nbval-lax -q -p no:cacheprovider -p gpu_check_log -n "$jobs" --dist loadfile --durations=0 \
  --junitxml="$OUT/notebooks.xml"

# (4) determinism probe
cat > "$OUT/determinism_probe.py" <<'EOF'
"""dlbook.train.fit twice on CUDA (bitwise identical?), and CUDA against the CPU (max |Δw|)."""
import json, os, sys, warnings

import torch
from torch.utils.data import DataLoader, TensorDataset

import dlbook
from dlbook import data, models, train


def run(device):
    dlbook.seed_everything(0)
    x, y = data.make_shapes(512, seed=0)
    loader = DataLoader(TensorDataset(x, y), batch_size=64, shuffle=True, generator=torch.Generator().manual_seed(0))
    model = models.LeNet5(num_classes=2, activation="relu", pooling="max", seed=0)
    opt = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        history = train.fit(model, loader, loss_fn=torch.nn.CrossEntropyLoss(), optimizer=opt, epochs=3,
                            device=device, seed=0, progress=False)
    notes = sorted({str(w.message).split("\n")[0][:160] for w in caught if "determinis" in str(w.message)})
    weights = {k: v.detach().cpu().clone() for k, v in model.state_dict().items()}
    return weights, float(history["train_loss"][-1]), notes


def max_diff(a, b):
    return max(float((a[k].double() - b[k].double()).abs().max()) for k in a)


dry = os.environ.get("GPU_CHECK_DRY") == "1"
device = "cuda" if torch.cuda.is_available() else "cpu"
if device == "cpu" and not dry:
    sys.exit("CUDA is not available")
w1, loss1, notes = run(device)
w2, loss2, _ = run(device)
identical = all(torch.equal(w1[k], w2[k]) for k in w1)
result = {"device": device, "torch": torch.__version__, "twice_bitwise_identical": identical,
          "twice_max_abs_diff": max_diff(w1, w2), "final_train_loss": [loss1, loss2],
          "nondeterminism_warnings": notes}
if device == "cuda":
    wc, lossc, _ = run("cpu")
    result["cpu_vs_cuda_max_abs_diff"] = max_diff(w1, wc)
    result["cpu_final_train_loss"] = lossc
else:
    result["cpu_vs_cuda_max_abs_diff"] = None  # dry run: no CUDA to compare with
print(json.dumps(result, indent=1))
with open(os.path.join(os.environ["GPU_CHECK_OUT"], "determinism.json"), "w") as f:
    json.dump(result, f, indent=1)
EOF
run_step determinism "${GPU_CHECK_PROBE_TIMEOUT:-${limits[2]}}" env GPU_CHECK_DRY="$dry" GPU_CHECK_OUT="$OUT" \
  "$PY" "$OUT/determinism_probe.py"

# (5) the table: chapter → seconds → facts ok
"$PY" - "$OUT" <<'EOF' | tee "$OUT/table.md"
import collections, json, os, sys

out = sys.argv[1]
notebooks = open(os.path.join(out, "notebooks.txt")).read().split()
cells = collections.defaultdict(lambda: {"seconds": 0.0, "n": 0, "failed": []})
log = os.path.join(out, "notebooks.jsonl")
for line in open(log) if os.path.exists(log) else []:
    r = json.loads(line)
    nb, _, cell = r["nodeid"].partition("::")
    c = cells[nb]
    c["seconds"] += r["duration"]
    if r["when"] == "call":
        c["n"] += 1
    if r["outcome"] == "failed":
        c["failed"].append(f"{cell} ({r['when']})" if r["when"] != "call" else cell)
print("| chapter | seconds | facts ok |")
print("|---|---:|---|")
for nb in notebooks:
    c = cells.get(nb)
    if c is None:
        print(f"| {nb} | – | not run (time limit?) |")
        continue
    ok = "yes" if not c["failed"] else f"**no**: {len(c['failed'])} of {c['n']} cells failed ({', '.join(c['failed'][:4])})"
    print(f"| {nb} | {c['seconds']:.1f} | {ok} |")
print()
steps = os.path.join(out, "steps.txt")
if os.path.exists(steps):
    print("\n".join(f"- {s}" for s in open(steps).read().splitlines()))
det = os.path.join(out, "determinism.json")
if os.path.exists(det):
    d = json.load(open(det))
    print(f"- determinism ({d['device']}): two runs bitwise identical: {d['twice_bitwise_identical']} "
          f"(max |Δw| {d['twice_max_abs_diff']:.3g}); CPU vs CUDA max |Δw|: {d['cpu_vs_cuda_max_abs_diff']}")
EOF

say "results in $OUT"
if [ ${#failed[@]} -gt 0 ]; then
  echo "gpu_check: FAILED: ${failed[*]}" >&2
  exit 1
fi
echo "gpu_check: all steps passed$([ "$dry" = 1 ] && echo ' (dry run on the CPU: nothing ran on a GPU)')"
