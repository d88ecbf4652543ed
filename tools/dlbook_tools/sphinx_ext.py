"""Sphinx extension: the language switch between the Korean and English editions.

Each edition is built on its own into ``_build/html/<code>/`` from
``chapters/<code>/``; a page has the same name in both, so the counterpart of
``ko/05_perceptron.html`` is ``en/05_perceptron.html``. The switch is placed in
the article header of every page, and ``hreflang`` links tell search engines.
"""
from __future__ import annotations

from pathlib import Path

from docutils import nodes
from sphinx.util.docutils import SphinxDirective

HERE = Path(__file__).parent


def _on_config_inited(app, config):
    config.templates_path.append(str(HERE / "templates"))
    config.html_static_path.append(str(HERE / "static"))
    edition = config.dlbook_editions.get(config.dlbook_edition, {})
    for key in ("code_prompt_show", "code_prompt_hide"):  # myst-nb's interface strings, per language
        if key in edition:
            config[f"nb_{key}"] = edition[key]
    if "numfig_format" in edition:  # "그림 17.3" / "Figure 17.3" (numbered per chapter: see below)
        config.numfig_format = {**config.numfig_format, **edition["numfig_format"]}
    options = config.html_theme_options
    end = list(options.get("article_header_end") or ["article-header-buttons.html"])
    if "dlbook-lang-switch.html" not in end:
        end.insert(0, "dlbook-lang-switch.html")
    options["article_header_end"] = end


def counterpart_links(pagename: str, current: str, editions: dict) -> list[dict]:
    """Links from ``pagename`` in edition ``current`` to the same page in every edition."""
    up = "../" * (pagename.count("/") + 1)
    return [
        {"code": code, "label": e["label"], "url": f"{up}{code}/{pagename}.html", "current": code == current}
        for code, e in editions.items()
    ]


def _on_page_context(app, pagename, templatename, context, doctree):
    links = counterpart_links(pagename, app.config.dlbook_edition, app.config.dlbook_editions)
    context["dlbook_editions"] = links
    tags = "".join(f'<link rel="alternate" hreflang="{l["code"]}" href="{l["url"]}" />' for l in links)
    context["metatags"] = context.get("metatags", "") + tags


def chapter_number(docname: str) -> int | None:
    """``17_lstm_gru`` → 17; None for a page that is not a chapter (index, glossary)."""
    head = docname.rsplit("/", 1)[-1].split("_", 1)[0]
    return int(head) if head.isdigit() and "_" in docname else None


def _number_figures_per_chapter(app, env):
    """Figures and tables are numbered within their chapter: "그림 17.3", "Figure 17.3".

    Sphinx numbers them across the whole book (the chapters' sections are numbered by hand, not
    by the toctree); this runs after it and renumbers each chapter's from 1, behind its number,
    so captions and ``{numref}`` references both show the chapter's numbering.
    """
    for docname, kinds in env.toc_fignumbers.items():
        chapter = chapter_number(docname)
        if chapter is None:
            continue
        for numbers in kinds.values():
            for k, key in enumerate(sorted(numbers, key=numbers.get), start=1):
                numbers[key] = (chapter, k)
    return []


def _key_cache_on_code() -> None:
    """Key jupyter-cache on code and tags only.

    jupyter-cache already ignores markdown cells, but it hashes *all* cell metadata, and a
    figure's caption and alt text (``mystnb`` metadata) are prose. With this, an edit of a
    caption re-executes nothing. The two editions still have two keys: their headers set
    different languages (``dlbook.set_language``), and each runs on its own.
    """
    from jupyter_cache.cache.main import JupyterCacheBase

    original = JupyterCacheBase.create_hashed_notebook
    if getattr(original, "_dlbook", False):
        return

    def create_hashed_notebook(self, nb, nb_metadata=("kernelspec",), cell_metadata=None):
        return original(self, nb, nb_metadata=nb_metadata, cell_metadata=("tags",) if cell_metadata is None else cell_metadata)

    create_hashed_notebook._dlbook = True
    JupyterCacheBase.create_hashed_notebook = create_hashed_notebook


class GlossaryTable(SphinxDirective):
    """``{dlbook-glossary}``: the glossary of ``glossary.yml`` as a table in the page's edition."""

    def run(self):
        from .glossary import terms

        ko = self.env.config.dlbook_edition == "ko"
        head = ("한국어", "English", "뜻") if ko else ("English", "한국어", "Meaning")
        rows = sorted(terms(), key=lambda t: t.ko if ko else t.en.lower())
        table = nodes.table(classes=["dlbook-glossary"])
        group = nodes.tgroup(cols=3)
        table += group
        for width in (22, 26, 52):
            group += nodes.colspec(colwidth=width)

        def row(cells, tag=nodes.entry):
            r = nodes.row()
            for text in cells:
                entry = tag()
                entry += nodes.paragraph(text=text)
                r += entry
            return r

        thead, tbody = nodes.thead(), nodes.tbody()
        thead += row(head)
        for t in rows:
            tbody += row((t.ko, t.en, t.def_ko) if ko else (t.en, t.ko, t.def_en))
        group += thead
        group += tbody
        return [table]


def setup(app):
    _key_cache_on_code()
    from .search_ko import register

    register()
    app.add_directive("dlbook-glossary", GlossaryTable)
    app.add_config_value("dlbook_edition", "ko", "html")
    app.add_config_value("dlbook_editions", {}, "html")
    app.connect("config-inited", _on_config_inited)
    app.connect("html-page-context", _on_page_context)
    app.connect("env-get-updated", _number_figures_per_chapter, priority=900)  # after Sphinx numbers them
    app.add_css_file("dlbook.css")
    app.add_js_file("dlbook-search.js")  # search excerpts from the prose (static/dlbook-search.js)
    return {"parallel_read_safe": True, "parallel_write_safe": True, "version": "0.1"}
