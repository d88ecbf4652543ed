"""Publishing: the Pages workflow builds the book as README says, and only ``_config.yml`` names the repository.

A fork publishes its own copy by changing ``repository`` in ``_config.yml`` once (README, "Publishing
your own copy"). That holds only while (a) the workflow runs the README's build command on the
configured branch, (b) it deploys what that command builds, and (c) no other file writes the
repository's URL by hand. Cells that tools generate from ``_config.yml`` carry the URL; they are
allowed (``GENERATED``) only where a tool regenerates them and a test checks them to be in step,
and only as the very cell the tool writes, so that any hand-written occurrence, even in the same
notebook, fails here. Fast, no network.
"""
from __future__ import annotations

import io
import json
import re
import subprocess
import zipfile
from fnmatch import fnmatch
from pathlib import Path

import pytest
import yaml

from dlbook_tools import config, notebooks

ROOT = Path(__file__).resolve().parents[1]
WORKFLOW = ROOT / ".github" / "workflows" / "pages.yml"
BLOCK = re.compile(r"^ *```bash\n(.*?)^ *```", re.M | re.S)

URL, BRANCH = config.repository(ROOT)
OWNER_NAME = config.github_path(ROOT)  # the URL, Colab links and `git+` install lines all contain it
NEEDLES = tuple({OWNER_NAME.lower(), OWNER_NAME.lower().replace("/", "%2f")})  # also as Binder encodes it


def header(path: Path) -> set[str]:
    return {notebooks.header_source(None, ROOT)}


def header_and_footer(path: Path) -> set[str]:
    lang = path.parent.name
    if lang not in notebooks.FOOTER:
        return header(path)
    return {notebooks.header_source(lang, ROOT), notebooks.footer_source(lang, path.stem, ROOT)}


# The only files besides _config.yml that may name the repository: glob → (the generated cell sources
# allowed there, why). Each is rewritten from _config.yml by a tool, and a test fails while it is stale.
GENERATED = {
    "chapters/*/*.ipynb": (
        header_and_footer,
        "setup cell (Colab `%pip install dlbook @ git+URL@branch`) and exercise links: written by "
        "`dlbook-tools header`; test_editions.py (cli.problems) fails while one is not current"),
    "solutions/*.ipynb": (
        header,
        "setup cell: written by `dlbook-tools header`; test_editions.py (cli.problems) fails while stale"),
    "exercises/*.ipynb": (
        header,
        "setup cell, copied from solutions/ by `dlbook-tools exercises`; test_exercises.py fails while stale"),
    "tests/corpus/05_perceptron/*": (
        header,
        "students' copies of exercises/05_perceptron.ipynb written by tests/corpus/05_perceptron/make_corpus.py; "
        "no other test compares them with exercises/, so this one does: the setup cell must be today's"),
}


# ------------------------------------------------------------------------------------------ helpers
def readme_build_command() -> str:
    """The README's build command: the one command of its ```bash blocks whose comment says it builds _build/html."""
    found = []
    for block in BLOCK.findall((ROOT / "README.md").read_text(encoding="utf-8")):
        for line in block.splitlines():
            command, _, comment = line.partition(" #")
            if command.strip() and not command.strip().startswith("#") and "_build/html" in comment:
                found.append(command.strip())
    assert len(found) == 1, f"README should print exactly one build command into _build/html, found {found}"
    return found[0]


def workflow() -> dict:
    return yaml.safe_load(WORKFLOW.read_text(encoding="utf-8"))


def triggers(wf: dict) -> dict:
    on = wf.get("on", wf.get(True))  # YAML 1.1 reads the bare key `on` as True
    return {on: None} if isinstance(on, str) else {k: None for k in on} if isinstance(on, list) else on


def steps(wf: dict) -> list[dict]:
    return [s for job in wf["jobs"].values() for s in job.get("steps", [])]


def occurrences(text: str) -> int:
    low = text.lower()
    return sum(low.count(n) for n in NEEDLES)


def notebook_problem(text: str, allowed: set[str]) -> str | None:
    """Why a notebook's mentions of the repository are not all allowed generated cells (None: they are)."""
    try:
        nb = json.loads(text)
        cells = nb["cells"]
    except (ValueError, KeyError, TypeError, RecursionError) as e:
        # the corpus's broken uploads (cut off, nested too deep): every mention must lie in a generated
        # cell's source as JSON writes it
        accounted = sum(text.count(encoded) * occurrences(s) for s in allowed
                        for encoded in {json.dumps(s, ensure_ascii=False)[1:-1], json.dumps(s)[1:-1]})
        if occurrences(text) == accounted:
            return None
        return f"names the repository outside its generated cells, and is not a readable notebook ({type(e).__name__})"
    accounted = 0
    for cell in cells:
        source = cell.get("source", "")
        source = "".join(source) if isinstance(source, list) else source
        if occurrences(source):
            if source not in allowed:
                return f"a cell names the repository but is not the generated cell:\n{source[:400]}"
            accounted += occurrences(source)
    if occurrences(text) != accounted:
        return "names the repository outside its generated cells (outputs, metadata or attachments)"
    return None


def problems_of(rel: str, data: bytes) -> list[str]:
    """What is wrong with one file's mentions of the repository (a zip's members are read too)."""
    if rel == "_config.yml":
        return []
    if data[:4] == b"PK\x03\x04":
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as zf:
                return [p for m in zf.infolist() if not m.is_dir() and m.file_size < 2**26
                        for p in problems_of(f"{rel}/{m.filename}", zf.read(m))]
        except zipfile.BadZipFile:
            pass
    text = data.decode("utf-8", errors="replace")
    if not occurrences(text):
        return []
    rule = next((g for g in GENERATED if fnmatch(rel, g)), None)
    if rule is None or not rel.endswith(".ipynb"):
        why = f"names the repository {occurrences(text)}× — only _config.yml may (generated cells aside)"
    else:
        why = notebook_problem(text, GENERATED[rule][0](ROOT / rel))
    return [f"{rel}: {why}"] if why else []


def repository_files() -> list[str]:
    """Tracked files, and new ones git would add (not ignored)."""
    out = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=ROOT,
                         capture_output=True, check=True).stdout.decode("utf-8")
    return sorted({p for p in out.split("\0") if p and (ROOT / p).is_file()})


# ---------------------------------------------------------------------------------- (a) and (b)
def test_workflow_triggers_on_the_configured_branch():
    on = triggers(workflow())
    assert "workflow_dispatch" in on
    assert on["push"]["branches"] == [BRANCH], (
        f"_config.yml publishes from {BRANCH!r}: .github/workflows/pages.yml must build on push to it")


def test_workflow_runs_the_readme_build_command():
    command = readme_build_command()
    runs = [s["run"].strip() for s in steps(workflow()) if "run" in s]
    assert runs == [command], f"the workflow's one shell step must be the README's build command {command!r}: {runs}"


def test_workflow_deploys_what_the_build_writes():
    wf = workflow()
    uploads = [s for s in steps(wf) if s.get("uses", "").startswith("actions/upload-pages-artifact@")]
    assert [s.get("with", {}).get("path") for s in uploads] == ["_build/html"]
    assert any(s.get("uses", "").startswith("actions/deploy-pages@") for s in steps(wf))
    assert wf["permissions"]["pages"] == "write" and wf["permissions"]["id-token"] == "write"
    assert wf.get("concurrency", {}).get("group")
    build = next(j for j in wf["jobs"].values() if uploads[0] in j.get("steps", []))
    assert build["timeout-minutes"] >= 20, "every chapter executes on the CPU: give the build time"
    python = next(s for s in steps(wf) if s.get("uses", "").startswith("actions/setup-python@"))
    assert str(python["with"]["python-version"]) == "3.11"


# ------------------------------------------------------------------------------------------- (c)
def test_only_config_names_the_repository():
    files = repository_files()
    assert "_config.yml" in files and occurrences((ROOT / "_config.yml").read_text(encoding="utf-8"))
    found = [p for rel in files for p in problems_of(rel, (ROOT / rel).read_bytes())]
    assert found == [], "\n".join(found)


@pytest.mark.parametrize("cell, ok", [
    (notebooks.header_source(None, ROOT), True),
    (notebooks.header_source(None, ROOT) + "\n# tweaked", False),
    (f"[the source]({URL})", False),
    (f"!pip install git+{URL.upper()}", False),
    (f"https://mybinder.org/v2/gh/{OWNER_NAME.replace('/', '%2F')}/{BRANCH}", False),
])
def test_the_check_refuses_hand_written_mentions(cell, ok):
    nb = {"cells": [{"cell_type": "code", "source": cell, "outputs": [], "metadata": {}}]}
    assert (problems_of("solutions/99_new.ipynb", json.dumps(nb).encode()) == []) is ok
    assert problems_of("lib/dlbook/new.py", cell.encode()) != []  # no generated cell outside the notebooks


def test_the_check_reads_broken_notebooks():
    head = json.dumps({"cells": [{"cell_type": "code", "source": notebooks.header_source(None, ROOT)}]}, ensure_ascii=False)
    assert problems_of("tests/corpus/05_perceptron/uploads/cut.ipynb", head[:-3].encode()) == []
    assert problems_of("tests/corpus/05_perceptron/uploads/cut.ipynb", (head[:-3] + URL).encode()) != []


def test_the_check_reads_zips_and_outputs():
    head = notebooks.header_source(None, ROOT)
    nb = {"cells": [{"cell_type": "code", "source": head, "metadata": {},
                     "outputs": [{"output_type": "stream", "name": "stdout", "text": URL}]}]}
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("homework/x.ipynb", json.dumps(nb))
    assert problems_of("tests/corpus/05_perceptron/uploads/x.zip", buf.getvalue()) != []
