"""Chapter ↔ module ↔ test, one hop each way.

Every public module of ``lib/dlbook`` (a name not starting with ``_``) carries, as the second
paragraph of its module docstring (right after the summary line), one *backlink* paragraph in
one of these forms::

    Taught in chapter 13 (13_convolution); used in chapters 14, 15.
    Taught in chapter 05 (05_perceptron).
    Not taught in a chapter: <why, no semicolon>; used in chapters 01–18.
    Not taught in a chapter: <why, no semicolon>; used by dlbook.optim, dlbook.mlp.

Chapter numbers are two digits; ``01–04`` (en dash) is a range. A chapter *uses* a module when
the code cells of the chapter (``chapters/ko`` and ``chapters/en``) or of its exercise solutions
(``solutions/``) reach it: ``import dlbook.X``, ``from dlbook import X``, ``from dlbook.X import
name``, ``dlbook.X.name``, or a name they import or look up on a module that is *defined* in X
(``dlbook.device()`` is :mod:`dlbook.runtime`'s; a name one module imports from another is
counted for the module that defines it). "Taught in" names the chapter that introduces
the module; which one that is was decided by reading the chapters, but it must be a chapter that
uses the module.

The tests check (a) each module a chapter uses names that chapter, (b) no docstring claims a
chapter (or a ``used by`` module) that does not use it, and (c) every public module ``X`` has its
mirror test file ``tests/test_X.py``. They read notebooks as JSON and import the library; no
notebook is executed.
"""
from __future__ import annotations

import ast
import importlib
import json
import re
from functools import lru_cache
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
LIB = ROOT / "lib" / "dlbook"
NOTEBOOK_DIRS = ("chapters/ko", "chapters/en", "solutions")
PUBLIC_MODULES = sorted(p.stem for p in LIB.glob("*.py") if not p.stem.startswith("_"))

_NUM = r"\d\d(?:–\d\d)?"
_NUMS = rf"{_NUM}(?:, {_NUM})*"
_MODS = r"dlbook(?:\.\w+)?(?:, dlbook(?:\.\w+)?)*"
BACKLINK = re.compile(
    r"(?:Taught in chapter (?P<taught>\d\d) \((?P<slug>\d\d_\w+)\)"
    r"|Not taught in a chapter: (?P<why>[^;]+?))"
    rf"(?:; used in chapters? (?P<used>{_NUMS}))?"
    rf"(?:; used by (?P<by>{_MODS}))?\."
)
FORMAT_HELP = (
    "a paragraph of its own right after the docstring's summary line, e.g. "
    "'Taught in chapter 13 (13_convolution); used in chapters 14, 15.' or "
    "'Not taught in a chapter: <reason>; used by dlbook.optim.'"
)


# ---------------------------------------------------------------- what the notebooks use
def _code(nb_path: Path) -> list[str]:
    nb = json.loads(nb_path.read_text(encoding="utf-8"))
    cells = []
    for cell in nb["cells"]:
        if cell["cell_type"] != "code":
            continue
        src = cell["source"] if isinstance(cell["source"], str) else "".join(cell["source"])
        # IPython magics and shell escapes are not Python
        cells.append("\n".join(line[:len(line) - len(line.lstrip())] + "pass" if line.lstrip().startswith(("%", "!"))
                                else line for line in src.splitlines()))
    return cells


def _module_of(obj) -> str | None:
    """The public dlbook module ``obj`` is, or that defines it (None: not the library's)."""
    name = obj.__name__ if isinstance(obj, type(ast)) else getattr(obj, "__module__", None)
    if not isinstance(name, str) or not name.startswith("dlbook."):
        return None
    short = name.split(".")[1]
    return None if short.startswith("_") else short


def _resolve(path: list[str]) -> set[str]:
    """Modules reached by the dotted name ``dlbook.<path…>``: each module on the way and the module
    defining the object it ends at (stops at the first name that is not a module)."""
    found: set[str] = set()
    obj = importlib.import_module("dlbook")
    for part in path:
        try:
            obj = getattr(obj, part)
        except AttributeError:
            break
        mod = _module_of(obj)
        if mod:
            found.add(mod)
        if not isinstance(obj, type(ast)):
            break
    return found


def _dotted(node: ast.AST) -> list[str] | None:
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        return [node.id, *reversed(parts)]
    return None


@lru_cache(maxsize=None)
def modules_used(nb_path: Path) -> frozenset[str]:
    used: set[str] = set()
    aliases: dict[str, list[str]] = {}  # local name → path under dlbook ([] is dlbook itself)
    for src in _code(nb_path):
        try:
            tree = ast.parse(src)
        except SyntaxError as err:
            pytest.fail(f"{nb_path.relative_to(ROOT)}: a code cell does not parse ({err}); fix the cell")
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                for a in node.names:
                    if a.name == "dlbook" or a.name.startswith("dlbook."):
                        path = a.name.split(".")[1:]
                        used |= _resolve(path)
                        # "import dlbook.conv" binds dlbook; "import dlbook.conv as C" binds C
                        aliases[a.asname or "dlbook"] = path if a.asname else []
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module and (
                    node.module == "dlbook" or node.module.startswith("dlbook.")):
                base = node.module.split(".")[1:]
                used |= _resolve(base)
                for a in node.names:
                    used |= _resolve([*base, a.name])
                    aliases[a.asname or a.name] = [*base, a.name]
    # attribute look-ups on dlbook or on an imported module: dlbook.device(), surfaces.race(...)
    for src in _code(nb_path):
        for node in ast.walk(ast.parse(src)):
            if isinstance(node, ast.Attribute):
                dotted = _dotted(node)
                if dotted and dotted[0] in aliases:
                    used |= _resolve([*aliases[dotted[0]], *dotted[1:]])
    return frozenset(used)


def _chapter_notebooks() -> list[Path]:
    return [p for d in NOTEBOOK_DIRS for p in sorted((ROOT / d).glob("[0-9][0-9]_*.ipynb"))]


@lru_cache(maxsize=None)
def usage() -> dict[str, dict[str, list[str]]]:
    """module → chapter number → the notebooks (relative paths) of that chapter that use it."""
    table: dict[str, dict[str, list[str]]] = {m: {} for m in PUBLIC_MODULES}
    for nb in _chapter_notebooks():
        for mod in modules_used(nb):
            table.setdefault(mod, {}).setdefault(nb.name[:2], []).append(str(nb.relative_to(ROOT)))
    return table


def chapter_slugs() -> dict[str, str]:
    return {p.name[:2]: p.stem for p in sorted((ROOT / "chapters" / "ko").glob("[0-9][0-9]_*.ipynb"))}


# ---------------------------------------------------------------- what the docstrings claim
def _numbers(text: str | None) -> list[str]:
    out = []
    for item in (text.split(", ") if text else []):
        lo, _, hi = item.partition("–")
        out += [f"{n:02d}" for n in range(int(lo), int(hi or lo) + 1)]
    return out


@lru_cache(maxsize=None)
def backlink(module: str) -> dict:
    tree = ast.parse((LIB / f"{module}.py").read_text(encoding="utf-8"))
    doc = ast.get_docstring(tree) or ""
    paragraphs = [" ".join(p.split()) for p in re.split(r"\n\s*\n", doc)]
    where = f"lib/dlbook/{module}.py"
    if len(paragraphs) < 2:
        pytest.fail(f"{where}: the module docstring has no backlink paragraph; add one, {FORMAT_HELP}")
    m = BACKLINK.fullmatch(paragraphs[1])
    if not m:
        pytest.fail(f"{where}: the docstring's second paragraph {paragraphs[1][:120]!r} is not a backlink; "
                    f"write it as {FORMAT_HELP}")
    used = _numbers(m["used"])
    by = m["by"].split(", ") if m["by"] else []
    return {"taught": m["taught"], "slug": m["slug"], "why": m["why"], "used": used, "by": by,
            "claimed": ([m["taught"]] if m["taught"] else []) + used, "line": paragraphs[1]}


def test_every_public_module_has_a_backlink_paragraph():
    for module in PUBLIC_MODULES:
        link = backlink(module)
        assert link["claimed"] or link["by"], (
            f"lib/dlbook/{module}.py: 'Not taught in a chapter' needs '; used in chapters …' or '; used by dlbook.…'")
        assert len(set(link["claimed"])) == len(link["claimed"]), (
            f"lib/dlbook/{module}.py: a chapter is named twice in {link['line']!r}")


# ---------------------------------------------------------------- (a) chapter → module
@pytest.mark.parametrize("nb", _chapter_notebooks(), ids=lambda p: str(p.relative_to(ROOT)))
def test_each_module_a_chapter_uses_names_that_chapter(nb):
    chapter = nb.name[:2]
    missing = [m for m in sorted(modules_used(nb)) if chapter not in backlink(m)["claimed"]]
    assert not missing, "\n".join(
        f"{nb.relative_to(ROOT)} uses dlbook.{m}, but lib/dlbook/{m}.py's docstring does not name "
        f"chapter {chapter} ({backlink(m)['line']!r}); add {chapter} to its 'used in chapters' list"
        for m in missing)


# ---------------------------------------------------------------- (b) module → chapter
@pytest.mark.parametrize("module", PUBLIC_MODULES)
def test_docstring_claims_are_not_stale(module):
    link, users, slugs = backlink(module), usage().get(module, {}), chapter_slugs()
    where = f"lib/dlbook/{module}.py"
    problems = [f"{where} claims chapter {c}, but no notebook of chapter {c} ({', '.join(NOTEBOOK_DIRS)}) "
                f"uses dlbook.{module}; remove {c} from {link['line']!r}"
                for c in link["claimed"] if c not in users]
    if link["taught"]:
        if slugs.get(link["taught"]) != link["slug"]:
            problems.append(f"{where}: chapter {link['taught']} is {slugs.get(link['taught'], 'no chapter')!r}, "
                            f"not {link['slug']!r}; fix the slug in {link['line']!r}")
        if link["taught"] in link["used"]:
            problems.append(f"{where}: chapter {link['taught']} is both 'taught in' and 'used in'; "
                            f"drop it from the 'used in' list")
    if link["used"] != sorted(link["used"]):
        problems.append(f"{where}: list the chapters of {link['line']!r} in increasing order")
    for user in link["by"]:
        src = (LIB / ("__init__.py" if user == "dlbook" else f"{user.split('.')[1]}.py"))
        if not src.exists() or not _imports(src, module):
            problems.append(f"{where} says it is used by {user}, but lib/dlbook/{src.name} does not import "
                            f".{module}; correct the 'used by' list")
    assert not problems, "\n".join(problems)


def _imports(src: Path, module: str) -> bool:
    for node in ast.walk(ast.parse(src.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.level == 1:
            if node.module == module or (node.module is None and any(a.name == module for a in node.names)):
                return True
    return False


# ---------------------------------------------------------------- (c) module → test
def test_every_public_module_has_a_mirror_test_file():
    missing = [m for m in PUBLIC_MODULES if not (ROOT / "tests" / f"test_{m}.py").exists()]
    assert not missing, "modules without a mirror test file: " + ", ".join(
        f"lib/dlbook/{m}.py (add tests/test_{m}.py)" for m in missing)


@pytest.mark.parametrize("module", PUBLIC_MODULES)
def test_mirror_test_file_imports_its_module(module):
    path = ROOT / "tests" / f"test_{module}.py"
    if not path.exists():
        pytest.skip(f"tests/test_{module}.py is missing (reported by the mirror-file test)")
    src = path.read_text(encoding="utf-8")
    pattern = rf"\bdlbook\.{module}\b|from dlbook import [^\n]*\b{module}\b|\bdlbook import \(?[^)]*\b{module}\b"
    assert re.search(pattern, src), (
        f"tests/test_{module}.py never imports dlbook.{module}; a mirror test file tests its own module")
