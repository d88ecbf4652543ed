"""The two editions stay in step: same pages, identical code, current headers and footers."""
import copy
import os

import nbformat
import pytest

from dlbook_tools import cli, config, notebooks

ROOT = config.ROOT
KO = sorted((ROOT / "chapters" / "ko").glob("*.ipynb"))


def test_every_page_exists_in_every_edition():
    for e in config.editions():
        for stem in config.chapter_stems():
            matches = list((ROOT / "chapters" / e.code).glob(f"{stem}.*"))
            assert matches, f"chapters/{e.code}/{stem} is in _toc.yml but missing"
    names = {e.code: sorted(p.name for p in (ROOT / "chapters" / e.code).glob("*.ipynb")) for e in config.editions()}
    assert len(set(map(tuple, names.values()))) == 1, names


@pytest.mark.parametrize("path", KO, ids=lambda p: p.stem)
def test_code_cells_are_identical(path):
    en = notebooks.counterpart(path, "en")
    assert notebooks.code_differences(notebooks.read(path), notebooks.read(en)) == []


@pytest.mark.parametrize("path", [p for ko in KO for p in (ko, notebooks.counterpart(ko, "en"))],
                         ids=lambda p: f"{p.parent.name}-{p.stem}")
def test_checked_cells_carry_their_expected_output(path):
    checked = [c for c in notebooks.code_cells(notebooks.read(path)) if notebooks.is_checked(c)]
    assert checked, f"{path.name} checks no facts: mark fact cells with # NBVAL_CHECK_OUTPUT"
    for cell in checked:
        assert cell.outputs and cell.execution_count, f"{path.name}: run `dlbook-tools execute` ({cell.source[:60]!r})"


def test_headers_footers_and_editions_are_current():
    assert cli.problems() == []


def test_header_is_the_same_code_everywhere_but_for_the_edition_language():
    for path, lang in cli.all_notebooks():
        headers = notebooks.tagged(notebooks.read(path), notebooks.HEADER_TAG)
        assert len(headers) == 1 and headers[0].source == notebooks.header_source(lang), path
    ko, en = notebooks.header_source("ko").splitlines(), notebooks.header_source("en").splitlines()
    differing = [(a, b) for a, b in zip(ko, en) if a != b]
    assert len(ko) == len(en) and [a.split("#")[0].strip() for a, _ in differing] == ['dlbook.set_language("ko")']
    assert 'dlbook.set_language' not in notebooks.header_source(None)  # exercises: both languages


def _nb(*cells):
    nb = nbformat.v4.new_notebook()
    nb.cells = list(cells)
    return nb


def test_sync_updates_inserts_and_removes_code_by_id_and_keeps_prose():
    md_ko = nbformat.v4.new_markdown_cell("한국어 설명", id="m1")
    md_en = nbformat.v4.new_markdown_cell("English prose", id="m1")
    a = nbformat.v4.new_code_cell("x = 1", id="a")
    b = nbformat.v4.new_code_cell("y = 2", id="b")
    gone = nbformat.v4.new_code_cell("old()", id="gone")
    source = _nb(md_ko, copy.deepcopy(a), nbformat.v4.new_code_cell("x = 10", id="a2"), copy.deepcopy(b))
    source.cells[3].source = "y = 20"
    target = _nb(md_en, copy.deepcopy(a), gone, copy.deepcopy(b))
    changes = notebooks.sync_code(source, target)
    assert [c.id for c in target.cells] == ["m1", "a", "a2", "b"]
    assert [c.source for c in target.cells] == ["English prose", "x = 1", "x = 10", "y = 20"]
    assert sorted(changes) == ["added code cell a2", "removed code cell gone", "updated code cell b"]
    assert notebooks.code_differences(source, target) == []
    assert [c.metadata.get("tags") for c in target.cells] == [None] * 4  # no empty tag lists


def test_each_edition_executes_on_its_own_and_prose_never_re_executes(tmp_path):
    from jupyter_cache.cache.main import JupyterCacheBase

    from dlbook_tools.sphinx_ext import _key_cache_on_code

    _key_cache_on_code()
    cache = JupyterCacheBase(str(tmp_path))
    for path in KO:
        ko = notebooks.read(path)
        hashes = {cache.create_hashed_notebook(nb)[1] for nb in (ko, notebooks.read(notebooks.counterpart(path, "en")))}
        assert len(hashes) == 2, f"{path.stem}: the editions would share one execution (and one language)"
        edited = copy.deepcopy(ko)
        for cell in edited.cells:
            if cell.cell_type == "markdown":
                cell.source += " (edited)"
            cell.metadata.pop("mystnb", None)  # captions and alt text
        assert cache.create_hashed_notebook(edited)[1] == cache.create_hashed_notebook(ko)[1], path.stem


def test_the_cache_primed_in_parallel_serves_the_build_and_the_other_edition(tmp_path):
    """`dlbook-tools book` executes the notebooks several at a time first; the build must then find
    each one by the key it computes itself (the other edition's copy too), and a failing notebook is
    reported, not cached (the build runs it again and fails with jupyter-book's own error)."""
    from jupyter_cache import get_cache

    from dlbook_tools import book

    def write(name, *sources, caption="x"):
        cells = [nbformat.v4.new_markdown_cell(caption)] + [nbformat.v4.new_code_cell(s) for s in sources]
        nb = nbformat.v4.new_notebook(cells=cells, metadata={"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}})
        nbformat.write(nb, tmp_path / name)
        return tmp_path / name

    good = [write("a.ipynb", "import os\nprint(os.environ['OMP_NUM_THREADS'])"), write("b.ipynb", "print(6 * 7)")]
    bad = write("c.ipynb", "raise ValueError('broken on purpose')")
    other_edition = write("b_en.ipynb", "print(6 * 7)", caption="the same code, another language")
    failed = book.prime_cache(good + [bad], tmp_path / "cache", jobs=2)
    assert failed == [str(bad)]
    cache = get_cache(str(tmp_path / "cache"))
    for path in good + [other_edition]:
        _, merged = cache.merge_match_into_notebook(nbformat.read(path, as_version=4))
        assert merged.cells[1].outputs, path.name
    _, a = cache.merge_match_into_notebook(nbformat.read(good[0], as_version=4))
    assert a.cells[1].outputs[0]["text"].strip() == os.environ.get("OMP_NUM_THREADS", str(max(1, len(os.sched_getaffinity(0)) // 2)))
    with pytest.raises(KeyError):
        cache.match_cache_notebook(nbformat.read(bad, as_version=4))
    assert book.prime_cache(good, tmp_path / "cache") == []  # nothing left to execute


def test_what_nbval_executed_serves_the_build_instead_of_a_second_run(tmp_path):
    """scripts/test.sh runs the chapters under nbval with dlbook_tools.executed, then builds: the build
    takes each notebook as nbval ran it (every output, checked or not) when its code is unchanged, and
    executes it itself otherwise; a notebook with a failing cell is not kept."""
    import subprocess
    import sys

    from jupyter_cache import get_cache

    from dlbook_tools import book
    from dlbook_tools.sphinx_ext import _key_cache_on_code

    def write(name, *sources):
        cells = [nbformat.v4.new_markdown_cell("x")] + [nbformat.v4.new_code_cell(s) for s in sources]
        nb = nbformat.v4.new_notebook(cells=cells, metadata={"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}})
        nbformat.write(nb, tmp_path / "nbs" / name)
        return tmp_path / "nbs" / name

    (tmp_path / "nbs").mkdir()
    good = write("good.ipynb", "print(6 * 7)", "# NBVAL_CHECK_OUTPUT\nprint('unchecked cells keep outputs too')")
    bad = write("bad.ipynb", "print(1)", "raise ValueError('broken on purpose')")
    run = subprocess.run([sys.executable, "-m", "pytest", str(good), str(bad), "--nbval-lax", "-q", "-p", "no:cacheprovider",
                          "-p", "dlbook_tools.executed", "--dlbook-save-executed", str(tmp_path / "kept")],
                         capture_output=True, text=True, cwd=tmp_path)
    assert "1 failed" in run.stdout, run.stdout[-2000:]
    kept = tmp_path / "kept"
    assert sorted(p.name for p in kept.iterdir()) == ["good.ipynb"]
    ran = nbformat.read(kept / "good.ipynb", as_version=4)
    assert ran.cells[1].outputs[0]["text"] == "42\n" and ran.cells[1].execution_count == 1
    _key_cache_on_code()
    cache = get_cache(str(tmp_path / "cache"))
    assert book._cache_executed_by_tests(cache, good, executed=kept)
    _, merged = cache.merge_match_into_notebook(nbformat.read(good, as_version=4))
    assert merged.cells[1].outputs[0]["text"] == "42\n"
    changed = nbformat.read(good, as_version=4)
    changed.cells[1].source = "print(6 * 9)"
    nbformat.write(changed, good)
    assert not book._cache_executed_by_tests(cache, good, executed=kept)  # other code: the build runs it
    assert not book._cache_executed_by_tests(cache, bad, executed=kept)


def test_sync_keeps_each_editions_outputs_and_header_and_clears_what_changed():
    def header(lang):
        cell = nbformat.v4.new_code_cell(notebooks.header_source(lang), id="dlbook-header")
        cell.metadata["tags"] = [notebooks.HEADER_TAG]
        return cell

    def ran(source, text, cid):
        cell = nbformat.v4.new_code_cell(source, id=cid, execution_count=1)
        cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text=text)]
        return cell

    source = _nb(header("ko"), ran("print(tr('같다', 'same'))", "같다\n", "a"), ran("print(tr('새', 'new'))", "새\n", "b"))
    target = _nb(header("en"), ran("print(tr('같다', 'same'))", "same\n", "a"), ran("print('old')", "old\n", "b"))
    assert notebooks.sync_code(source, target) == ["updated code cell b"]
    assert target.cells[0].source == notebooks.header_source("en")  # the header is the edition's own
    assert target.cells[1].outputs[0]["text"] == "same\n"  # unchanged code keeps its English output
    assert target.cells[2].outputs == [] and target.cells[2].execution_count is None  # to be executed
    assert notebooks.code_differences(source, target) == []


def test_sync_refuses_a_cell_that_changed_kind():
    source = _nb(nbformat.v4.new_code_cell("x = 1", id="a"))
    target = _nb(nbformat.v4.new_markdown_cell("x = 1", id="a"))
    with pytest.raises(ValueError, match="cell a is code in one edition and markdown in the other"):
        notebooks.sync_code(source, target)


def test_code_differences_names_the_cell():
    one = _nb(nbformat.v4.new_code_cell("x = 1", id="a"))
    two = _nb(nbformat.v4.new_code_cell("x = 2", id="a"))
    (diff,) = notebooks.code_differences(one, two)
    assert "code cell 1 (id a / a) differs" in diff


def test_edition_toc_resolves_captions_per_language():
    ko, en = config.editions()
    assert ko.code == "ko"  # Korean is the default edition
    caps = [p["caption"] for p in config.toc_for(ko)["parts"]], [p["caption"] for p in config.toc_for(en)["parts"]]
    assert all(isinstance(c, str) for c in caps[0] + caps[1]) and caps[0] != caps[1]


def test_language_switch_links_to_the_counterpart_page():
    from dlbook_tools.sphinx_ext import counterpart_links

    eds = {"ko": {"label": "한국어"}, "en": {"label": "English"}}
    links = counterpart_links("05_perceptron", "ko", eds)
    assert links == [
        {"code": "ko", "label": "한국어", "url": "../ko/05_perceptron.html", "current": True},
        {"code": "en", "label": "English", "url": "../en/05_perceptron.html", "current": False},
    ]
    assert counterpart_links("part/page", "en", eds)[0]["url"] == "../../ko/part/page.html"


def test_colab_header_installs_from_the_configured_repository():
    url, branch = config.repository()
    assert f'git+{url}@{branch}' in notebooks.header_source()
    assert config.colab_url("exercises/05_perceptron.ipynb").endswith(f"/blob/{branch}/exercises/05_perceptron.ipynb")


def test_edition_config_overrides_only_edition_keys(monkeypatch):
    from dlbook_tools import book

    monkeypatch.delenv("DLBOOK_JUPYTERHUB_URL", raising=False)
    ko, en = config.editions()
    cfg = book.edition_config(en, jupyterhub_url="https://hub.example.edu")
    assert cfg["title"] == en.title and cfg["sphinx"]["config"]["language"] == "en"
    assert cfg["repository"]["path_to_book"] == "chapters/en"
    assert cfg["launch_buttons"]["jupyterhub_url"] == "https://hub.example.edu"
    assert cfg["execute"]["cache"] == book.edition_config(ko)["execute"]["cache"]  # one shared cache
    assert book.edition_config(ko)["launch_buttons"]["jupyterhub_url"] == ""


def test_figures_and_tables_are_renumbered_within_each_chapter():
    from types import SimpleNamespace

    from dlbook_tools import sphinx_ext

    env = SimpleNamespace(toc_fignumbers={
        "index": {"figure": {"id0": (1,)}},
        "05_perceptron": {"figure": {"a": (3,), "b": (2,)}, "table": {"t": (1,)}},
        "17_lstm_gru": {"figure": {"c": (68,), "d": (69,)}},
    })
    assert sphinx_ext._number_figures_per_chapter(None, env) == []
    assert env.toc_fignumbers == {"index": {"figure": {"id0": (1,)}},
                                  "05_perceptron": {"figure": {"b": (5, 1), "a": (5, 2)}, "table": {"t": (5, 1)}},
                                  "17_lstm_gru": {"figure": {"c": (17, 1), "d": (17, 2)}}}
    assert [sphinx_ext.chapter_number(d) for d in ("05_perceptron", "index", "glossary", "2024")] == [5, None, None, None]
