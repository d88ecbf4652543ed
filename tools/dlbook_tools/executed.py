"""A pytest plugin that keeps the notebooks nbval has just executed, so the book build need not run them again.

    python -m pytest chapters/ko --nbval-lax -p dlbook_tools.executed --dlbook-save-executed _build/executed

nbval runs every code cell of a notebook in one kernel and keeps what the cell printed and drew
(``item.test_outputs``). When every cell of a notebook ran without an error, this plugin writes the
notebook with those outputs to ``DIR/<its path in the repository>``: exactly what an execution of
the same code gives (nbval collects every output of every cell, checked or not). The build's
:func:`dlbook_tools.book.prime_cache` takes such a notebook instead of executing the chapter again
when its code cells are the chapter's code cells, so ``scripts/test.sh`` executes each chapter once:
under nbval, where its checked facts are compared, and the HTML shows those very outputs.
"""
from __future__ import annotations

from pathlib import Path

import pytest

from .book import kept_path

_cells: dict[Path, dict[str, list]] = {}  # notebook → {cell id: outputs}
_failed: set[Path] = set()


def pytest_addoption(parser):
    parser.addoption("--dlbook-save-executed", metavar="DIR", default=None,
                     help="write each notebook nbval executed without an error, with its outputs, under DIR")


def _figure(cell) -> bool:
    return bool(cell.get("metadata", {}).get("mystnb", {}).get("figure"))


def _is_nbval_cell(item) -> bool:
    return type(item).__name__ == "IPyNbCell" and hasattr(item, "test_outputs")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    if not _is_nbval_cell(item) or not item.config.getoption("dlbook_save_executed"):
        return
    path = Path(str(item.parent.fspath)).resolve()
    report = outcome.get_result()
    if report.failed or report.skipped:
        _failed.add(path)
    elif call.when == "call":
        _cells.setdefault(path, {})[item.cell.get("id")] = list(item.test_outputs or [])


def pytest_sessionfinish(session):
    target = session.config.getoption("dlbook_save_executed")
    if not target:
        return
    from . import notebooks

    for path, outputs in _cells.items():
        if path in _failed:
            continue
        nb = notebooks.read(path)
        code = notebooks.code_cells(nb)
        if any(cell.get("id") not in outputs for cell in code):  # not every cell ran (a -k selection)
            continue
        if any(_figure(cell) and not any("image/png" in o.get("data", {}) for o in outputs[cell.get("id")])
               for cell in code):  # e.g. a kernel started with MPLBACKEND=Agg: the build had better run it
            print(f"dlbook_tools.executed: {path.name} drew no image in a figure cell; the build will execute it")
            continue
        for count, cell in enumerate(code, start=1):
            cell.outputs = outputs[cell.get("id")]
            cell.execution_count = count
            for out in cell.outputs:
                if out.get("output_type") == "execute_result":
                    out["execution_count"] = count
        where = kept_path(path, target)
        where.parent.mkdir(parents=True, exist_ok=True)
        try:
            notebooks.write(nb, where)
        except Exception as err:  # the build then executes this notebook itself
            print(f"dlbook_tools.executed: could not keep {path.name}: {type(err).__name__}: {err}")
