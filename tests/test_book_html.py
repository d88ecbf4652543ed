"""The built HTML book, as a reader sees it in headless Chromium (Debian's, never a download).

Needs `_build/html` (``dlbook-tools book``; the README's test command builds it first).
Screenshots of a chapter page in each edition land in ``_build/screenshots/``.
"""
import functools
import http.server
import json
import os
import re
import threading
from pathlib import Path

import pytest

from dlbook_tools import config, notebooks

ROOT = config.ROOT
HTML = ROOT / "_build" / "html"
CHROMIUM = os.environ.get("DLBOOK_CHROMIUM", "/usr/bin/chromium")
EDITIONS = [e.code for e in config.editions()]
PAGES = config.chapter_stems()
CHAPTERS = [s for s in PAGES if (ROOT / "chapters" / EDITIONS[0] / f"{s}.ipynb").exists()]

if not HTML.exists() or not Path(CHROMIUM).exists():
    why = f"no built book at {HTML}" if not HTML.exists() else f"no Chromium at {CHROMIUM}"
    if os.environ.get("DLBOOK_REQUIRE_BROWSER") == "1":
        raise RuntimeError(f"browser tests required but {why}")
    pytest.skip(f"{why} (run `dlbook-tools book`; install Debian's chromium)", allow_module_level=True)

sync_api = pytest.importorskip("playwright.sync_api")


@pytest.fixture(scope="module")
def server():
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(HTML))
    handler.log_message = lambda *args: None
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()


@pytest.fixture(scope="module")
def page():
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM,
            args=["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        pg = browser.new_page(viewport={"width": 1280, "height": 900})
        yield pg
        browser.close()


def open_page(page, url):
    failed = []
    page.on("requestfailed", lambda r: failed.append(r.url) if "127.0.0.1" in r.url else None)
    response = page.goto(url)
    assert response and response.ok, url
    page.wait_for_load_state("load")
    return failed


def test_landing_page_offers_both_editions(server, page):
    open_page(page, server + "/index.html")
    hrefs = page.eval_on_selector_all("a.card", "els => els.map(e => e.getAttribute('href'))")
    assert hrefs == [f"{code}/index.html" for code in EDITIONS]
    with page.expect_navigation():
        page.click(f"a.card[hreflang={EDITIONS[0]}]")
    assert page.url.endswith(f"/{EDITIONS[0]}/index.html")
    assert page.get_attribute("html", "lang") == EDITIONS[0]


@pytest.mark.parametrize("lang", EDITIONS)
@pytest.mark.parametrize("stem", PAGES)
def test_page_renders_math_images_and_no_tracebacks(server, page, lang, stem):
    failed = open_page(page, f"{server}/{lang}/{stem}.html")
    assert failed == [], f"broken local requests: {failed}"
    assert page.get_attribute("html", "lang") == lang
    assert page.locator("article.bd-article").count() == 1, "no article: the checks below would see an empty page"
    if stem in CHAPTERS:
        page.wait_for_function("window.MathJax && MathJax.startup && MathJax.startup.promise", timeout=60000)
        page.evaluate("MathJax.startup.promise")
        assert page.locator("mjx-container").count() > 3
        prose = " ".join(page.eval_on_selector_all(  # prose without code spans or typeset math
            "article p, article li, article td, article th, article dd",
            "els => els.map(e => { const c = e.cloneNode(true);"
            " c.querySelectorAll('code, mjx-container').forEach(x => x.remove()); return c.innerText; })"))
        leftover = re.findall(r"\$\$|\$[^$\s][^$]*\$|\\(?:frac|\(|\[)", prose)
        assert leftover == [], f"untypeset math: {leftover[:3]}"
    broken = page.eval_on_selector_all("article img", "els => els.filter(e => !(e.complete && e.naturalWidth > 0)).map(e => e.src)")
    assert broken == []
    missing_alt = page.eval_on_selector_all("article img", "els => els.filter(e => !e.alt).map(e => e.src)")
    assert missing_alt == []
    imageless = page.eval_on_selector_all("article figure", "els => els.filter(e => !e.querySelector('img'))"
                                          ".map(e => e.innerText.slice(0, 80))")
    assert imageless == [], f"a figure shows no image (a Figure's text repr?): {imageless}"
    outputs = " ".join(page.locator(".cell_output").all_inner_texts())
    assert page.locator(".cell_output .traceback, .cell_output .output.error").count() == 0
    assert "Traceback (most recent call last)" not in outputs
    assert "does not have a glyph" not in outputs, "a figure label lost glyphs (Hangul inside $…$ math?)"


@pytest.mark.parametrize("lang", EDITIONS)
@pytest.mark.parametrize("stem", PAGES)
def test_language_switch_lands_on_the_counterpart(server, page, lang, stem):
    for other in EDITIONS:
        open_page(page, f"{server}/{lang}/{stem}.html")
        if other == lang:
            assert page.locator(f".dlbook-lang-switch [aria-current][lang={lang}]").count() == 1
            continue
        with page.expect_navigation():
            page.click(f".dlbook-lang-switch a[hreflang={other}]")
        assert page.url.endswith(f"/{other}/{stem}.html")
        assert page.get_attribute("html", "lang") == other


@pytest.mark.parametrize("lang", EDITIONS)
@pytest.mark.parametrize("stem", CHAPTERS)
def test_colab_and_jupyterlab_launch_links_point_at_the_notebook(server, page, lang, stem):
    open_page(page, f"{server}/{lang}/{stem}.html")
    path = f"chapters/{lang}/{stem}.ipynb"
    assert (ROOT / path).exists()
    colab = page.eval_on_selector_all("a[href*='colab.research.google.com']", "els => els.map(e => e.href)")
    assert config.colab_url(path) in colab
    binder = page.eval_on_selector_all("a[href*='mybinder.org']", "els => els.map(e => e.href)")
    assert any(b.endswith(f"urlpath=lab/tree/{path}") for b in binder), binder
    if (ROOT / "solutions" / f"{stem}.ipynb").exists():
        assert config.colab_url(f"exercises/{stem}.ipynb") in colab


@pytest.mark.parametrize("lang", EDITIONS)
def test_widget_has_a_static_figure_and_no_dead_slider(server, page, lang):
    stem = "05_perceptron"
    nb = notebooks.read(ROOT / "chapters" / lang / f"{stem}.ipynb")
    alts = [c.metadata["mystnb"]["image"]["alt"] for c in nb.cells
            if c.metadata.get("mystnb", {}).get("figure", {}).get("name") == "fig-explorer"]
    assert len(alts) == 1
    open_page(page, f"{server}/{lang}/{stem}.html")
    figure = page.locator(f"figure img[alt={alts[0]!r}]")
    assert figure.count() == 1
    assert figure.evaluate("e => e.naturalWidth") > 200
    assert page.locator("input[type=range], .widget-slider, .jupyter-widgets").count() == 0
    shots = ROOT / "_build" / "screenshots"
    shots.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(shots / f"{lang}-{stem}.png"))
    figure.scroll_into_view_if_needed()
    page.screenshot(path=str(shots / f"{lang}-{stem}-explorer.png"))


def test_korean_search_finds_words_whatever_particle_follows(server, page):
    raw = (HTML / "ko" / "searchindex.js").read_text(encoding="utf-8")
    terms = json.loads(raw[raw.index("(") + 1: raw.rindex(")")])["terms"]
    assert "퍼셉트론" in terms and "퍼셉트론은" not in terms and "퍼셉트론을" not in terms  # particles stripped
    for query in ("결정 경계를", "퍼셉트론은", "임계값이"):
        open_page(page, f"{server}/ko/search.html?q={query}")
        page.wait_for_selector("#search-results ul.search li", timeout=20000)
        hits = page.eval_on_selector_all("#search-results ul.search li a", "els => els.map(e => e.getAttribute('href'))")
        assert any("05_perceptron" in h for h in hits), (query, hits)


def test_no_broken_internal_link_in_either_edition(server, page):
    import urllib.parse
    import urllib.request

    seen, broken = set(), []
    for lang in EDITIONS:
        for stem in PAGES + ["glossary", "search", "genindex"]:
            url = f"{server}/{lang}/{stem}.html"
            if not (HTML / lang / f"{stem}.html").exists():
                continue
            open_page(page, url)
            hrefs = page.eval_on_selector_all("a[href]", "els => els.map(e => e.href)")
            for href in hrefs:
                target = urllib.parse.urldefrag(href)[0]
                if not target.startswith(server) or target in seen:
                    continue
                seen.add(target)
                try:
                    urllib.request.urlopen(target, timeout=10).close()
                except Exception as err:  # 404 and friends
                    broken.append(f"{url} → {target}: {err}")
    assert len(seen) > 10
    assert broken == []
