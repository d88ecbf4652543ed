"""Colab's header cell (`%pip install "dlbook @ git+…"`) must change nothing Colab already has.

Colab's front end renders only ipywidgets 7 widgets and Colab ships its own torch, numpy, matplotlib…
A fresh virtual environment gets the real ipywidgets 7.7.1 (without its dependencies) and, as
metadata only, the rest of a Colab-like environment; `pip install --dry-run --report` of this checkout,
exactly as the header cell asks for it, must then want to install dlbook and koreanize-matplotlib
(which Colab lacks) and nothing else: above all not another ipywidgets, torch or numpy. The `data`
extra is checked against the same versions without pip. Needs a package index for ipywidgets,
koreanize-matplotlib and setuptools (skipped, with the reason, where none answers); 10-40 s.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import venv
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

# What Colab has (Python 3.13, torch 2.11, ipywidgets 7.7.1 and what that needs), as versions only.
COLAB = {
    "torch": "2.11.0", "numpy": "2.0.2", "matplotlib": "3.10.0", "tqdm": "4.67.1",
    "ipykernel": "6.17.1", "ipython": "7.34.0", "ipython-genutils": "0.2.0", "traitlets": "5.7.1",
    "widgetsnbextension": "3.6.10", "jupyterlab-widgets": "3.0.15",
    # the `data` extra
    "scikit-learn": "1.6.1", "statsmodels": "0.14.4", "mlxtend": "0.23.4", "pandas": "2.2.2",
    "scipy": "1.15.3",
}
COLAB_IPYWIDGETS = "7.7.1"
NOT_IN_COLAB = {"dlbook", "koreanize-matplotlib"}


def _pip(python: Path, *args: str, timeout: int = 300) -> subprocess.CompletedProcess:
    # this interpreter's pip, acting on the new environment (`--python`): no ensurepip needed
    return subprocess.run([sys.executable, "-m", "pip", "--python", str(python), "--disable-pip-version-check",
                           *args], capture_output=True, text=True, timeout=timeout)


def _fake_installed(site: Path, name: str, version: str) -> None:
    """A distribution pip sees as installed (metadata, no code), with no requirements of its own."""
    info = site / f"{name.replace('-', '_')}-{version}.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n", encoding="utf-8")
    (info / "INSTALLER").write_text("colab-snapshot\n", encoding="utf-8")
    (info / "RECORD").write_text("", encoding="utf-8")


def test_colab_header_install_keeps_what_colab_has(tmp_path):
    from importlib.metadata import version

    if tuple(int(p) for p in version("pip").split(".")[:2] if p.isdigit()) < (22, 3):
        pytest.skip(f"needs pip >= 22.3 (`pip --python`), this is pip {version('pip')}: pip install -U pip")
    env = tmp_path / "venv"
    venv.create(env, with_pip=False, symlinks=sys.platform != "win32")
    python = env / ("Scripts/python.exe" if sys.platform == "win32" else "bin/python")
    done = _pip(python, "install", "-q", "--no-deps", f"ipywidgets=={COLAB_IPYWIDGETS}")
    if done.returncode != 0:
        pytest.skip(f"no package index reachable: pip could not install ipywidgets=={COLAB_IPYWIDGETS}: "
                    f"{done.stderr.strip()[-500:]}")
    site = Path(subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
                               capture_output=True, text=True, check=True).stdout.strip())
    for name, colab_version in COLAB.items():
        _fake_installed(site, name, colab_version)

    # the header cell's requirement, with this checkout in place of the git URL
    requirement, report = f"dlbook @ {ROOT.as_uri()}", tmp_path / "report.json"
    done = _pip(python, "install", "--dry-run", "--quiet", "--report", str(report), requirement)
    assert done.returncode == 0, f"pip install --dry-run {requirement!r} failed:\n{done.stdout[-2000:]}\n{done.stderr[-3000:]}"
    wanted = {i["metadata"]["name"].lower().replace("_", "-"): i["metadata"]["version"]
              for i in json.loads(report.read_text(encoding="utf-8"))["install"]}

    assert "ipywidgets" not in wanted, f"pip would replace Colab's ipywidgets {COLAB_IPYWIDGETS} by {wanted['ipywidgets']}"
    changed = {name: f"{COLAB[name]} → {wanted[name]}" for name in wanted if name in COLAB}
    assert not changed, f"installing dlbook would change Colab's {changed}"
    assert set(wanted) == NOT_IN_COLAB, f"unexpected installs: {sorted(set(wanted) - NOT_IN_COLAB)}"


def test_requirements_admit_colab_versions():
    """The same statement without pip or a network: each requirement of dlbook[data] admits Colab's version."""
    tomllib = pytest.importorskip("tomllib")
    from packaging.requirements import Requirement

    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    colab = dict(COLAB, ipywidgets=COLAB_IPYWIDGETS)
    for line in project["dependencies"] + project["optional-dependencies"]["data"]:
        req = Requirement(line)
        name = req.name.lower()
        if name in colab:
            assert req.specifier.contains(colab[name]), f"{line!r} refuses Colab's {name} {colab[name]}"
        else:
            assert name in NOT_IN_COLAB, f"{name} is neither in Colab nor in NOT_IN_COLAB"


def test_the_readers_wheel_holds_the_library_only(tmp_path):
    """`pip install dlbook` (Colab's header cell) installs no tools: they are tools/'s own distribution."""
    import shutil
    import zipfile

    src = tmp_path / "src"  # a copy: an in-tree build would leave build/ in the checkout
    shutil.copytree(ROOT / "lib" / "dlbook", src / "lib" / "dlbook", ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(ROOT / name, src / name)
    done = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
                           "-w", str(tmp_path), str(src)], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    (wheel,) = tmp_path.glob("dlbook-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    packages = {n.split("/", 1)[0] for n in names if not n.split("/", 1)[0].endswith(".dist-info")}
    assert packages == {"dlbook"}, f"the reader's wheel holds {sorted(packages)}"
    assert not any(n.endswith("entry_points.txt") for n in names), "the reader's wheel installs a console script"


def test_the_tools_act_on_the_checkout_they_are_run_in(tmp_path):
    """Run inside a checkout (any folder below one), the tools act on it, whichever environment holds
    them; DLBOOK_ROOT overrides; outside any checkout they fall back to the checkout they came from."""
    from dlbook_tools import config

    other = tmp_path / "other-checkout"
    (other / "chapters" / "ko").mkdir(parents=True)
    for marker in config.MARKERS:
        (other / marker).write_text("", encoding="utf-8")
    assert config.find_root(other / "chapters" / "ko", env={}) == other.resolve()
    assert config.find_root(tmp_path, env={"DLBOOK_ROOT": str(other)}) == other.resolve()
    with pytest.raises(RuntimeError, match="not a checkout of the book"):
        config.find_root(other, env={"DLBOOK_ROOT": str(tmp_path)})
    assert config.find_root(tmp_path, env={}) == Path(config.__file__).resolve().parents[2]
    env = {k: v for k, v in os.environ.items() if k != "DLBOOK_ROOT"}
    done = subprocess.run([sys.executable, "-c", "from dlbook_tools import config; print(config.ROOT)"],
                          cwd=other / "chapters", env=env, capture_output=True, text=True, timeout=60)
    assert done.stdout.strip() == str(other.resolve()), done.stderr
