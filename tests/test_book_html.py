"""The built HTML book, as a reader sees it in headless Chromium (Debian's, never a download).

Needs `_build/html` (``dlbook-tools book``; the README's test command builds it first).
Screenshots of a chapter page in each edition land in ``_build/screenshots/``.
"""
import functools
import html
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
    page.evaluate("document.fonts.ready.then(() => true)")  # the Hangul slices of the book's fonts
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


def drawn_with(page, selector: str) -> dict[str, int]:
    """The fonts Chromium drew the text of the first ``selector`` match with: {family: glyphs}."""
    page.evaluate("s => document.querySelector(s).scrollIntoView()", selector)
    page.evaluate("document.fonts.ready.then(() => true)")
    page.wait_for_timeout(300)  # a font slice requested by the scroll
    page.evaluate("document.fonts.ready.then(() => true)")
    cdp = page.context.new_cdp_session(page)
    try:
        cdp.send("DOM.enable")
        cdp.send("CSS.enable")
        root = cdp.send("DOM.getDocument", {"depth": -1})["root"]["nodeId"]
        node = cdp.send("DOM.querySelector", {"nodeId": root, "selector": selector})["nodeId"]
        fonts = cdp.send("CSS.getPlatformFontsForNode", {"nodeId": node})["fonts"]
    finally:
        cdp.detach()
    return {f["familyName"] + ("" if f["isCustomFont"] else " (system)"): f["glyphCount"] for f in fonts}


@pytest.mark.parametrize("lang", EDITIONS)
def test_hangul_is_drawn_with_the_books_own_fonts(server, page, lang):
    """Every Hangul character comes from a font the book serves; this machine has no CJK font, where a
    system font would draw boxes (so do the screenshots: they show Korean only if this passes)."""
    open_page(page, f"{server}/{lang}/17_lstm_gru.html")
    page.evaluate("""() => { const mark = (sel, ok) => { const e = [...document.querySelectorAll(sel)]
          .find(e => /[가-힣]/.test(e.innerText) && ok(e)); if (e) e.setAttribute('data-hangul', ''); };
        mark('article pre', e => true);
        mark('article p', e => !e.querySelector('code, mjx-container, .math, em, strong, a')); }""")
    probes = {".dlbook-lang[hreflang=ko], .dlbook-lang-current[lang=ko]": "NotoSansKR",
              "article pre[data-hangul]": "NanumGothicCoding"}
    if lang == "ko":
        probes["article p[data-hangul]"] = "NotoSansKR"
    for selector, family in probes.items():
        fonts = drawn_with(page, selector)
        assert any(name.replace(" ", "").startswith(family) for name in fonts), (selector, fonts)
        if selector != "article pre[data-hangul]":  # code's Latin letters come from the system's monospace
            assert not [n for n in fonts if n.endswith("(system)")], (selector, fonts)


PHONE_PAGES = ["index", "05_perceptron", "09_initialization", "13_convolution", "17_lstm_gru", "glossary"]


@pytest.fixture(scope="module")
def phone(page):
    page.set_viewport_size({"width": 390, "height": 844})
    yield page
    page.set_viewport_size({"width": 1280, "height": 900})


@pytest.mark.parametrize("lang", EDITIONS)
def test_a_phone_shows_every_page_without_sideways_scrolling(server, phone, lang):
    overflowing = {}
    for stem in PHONE_PAGES:
        open_page(phone, f"{server}/{lang}/{stem}.html")
        phone.evaluate("window.MathJax && MathJax.startup ? MathJax.startup.promise : null")
        wide = phone.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        if wide > 1:
            culprits = phone.evaluate("""() => { const scrolls = e => { for (let a = e.parentElement; a && a !== document.body;
                a = a.parentElement) if (getComputedStyle(a).overflowX !== 'visible') return true; return false; };
              return [...document.querySelectorAll('body *')].filter(e => !scrolls(e)
                && e.getBoundingClientRect().right > window.innerWidth + 1).slice(0, 3).map(e => e.tagName + '.' + e.className); }""")
            overflowing[stem] = (wide, culprits)
        switch = phone.eval_on_selector_all(".dlbook-lang", "els => els.map(e => e.getClientRects().length)")
        assert switch and all(n == 1 for n in switch), f"{stem}: the language switch wraps ({switch})"
    assert overflowing == {}, f"pages wider than a 390 px phone: {overflowing}"
    shots = ROOT / "_build" / "screenshots"
    shots.mkdir(parents=True, exist_ok=True)
    open_page(phone, f"{server}/{lang}/05_perceptron.html")
    phone.evaluate("document.fonts.ready.then(() => true)")
    phone.screenshot(path=str(shots / f"{lang}-05_perceptron-390px.png"))


@pytest.mark.parametrize("lang, word", [("ko", "그림"), ("en", "Figure")])
def test_figures_are_numbered_within_their_chapter(server, page, lang, word):
    for stem in ("05_perceptron", "17_lstm_gru"):
        open_page(page, f"{server}/{lang}/{stem}.html")
        numbers = page.eval_on_selector_all("figure .caption-number", "els => els.map(e => e.innerText.trim())")
        chapter = int(stem[:2])
        assert numbers and numbers == [f"{word} {chapter}.{k}" for k in range(1, len(numbers) + 1)], numbers


def _image_count(pdf_page) -> int:
    objects = (pdf_page.get("/Resources") or {}).get("/XObject") or {}
    return sum(1 for ref in objects.values() if ref.get_object().get("/Subtype") == "/Image")


@pytest.mark.parametrize("lang", EDITIONS)
def test_each_edition_has_a_pdf_with_every_chapter_its_text_and_figures(lang):
    from pypdf import PdfReader

    path = HTML / lang / "book.pdf"
    assert path.exists(), f"no {path}: `dlbook-tools book --pdf` prints it (the README's test command does)"
    reader = PdfReader(path)
    marks = [(m.title, reader.get_destination_page_number(m)) for m in reader.outline]
    titles = []
    for stem in PAGES:  # the bookmarks are the pages' titles, in the table of contents' order
        h1 = re.search(r"<h1[^>]*>(.*?)</h1>", (HTML / lang / f"{stem}.html").read_text(encoding="utf-8"), re.S)
        titles.append(html.unescape(re.sub(r"<[^>]+>", "", h1.group(1))).replace("#", "").strip())
    assert [t for t, _ in marks] == titles
    starts = [n for _, n in marks] + [len(reader.pages)]
    assert starts == sorted(starts) and len(set(starts)) == len(starts), "every page starts a new range, in order"
    for (title, first), last in zip(marks, starts[1:]):
        stem = PAGES[titles.index(title)]
        # white space left out: the extracted text spaces Hangul syllables by their glyphs' positions
        text = re.sub(r"\s+", "", "".join(reader.pages[i].extract_text() or "" for i in range(first, min(first + 2, last))))
        if lang == "ko":
            assert len(re.findall("[가-힣]", text)) > 100, f"{stem}: no extractable Korean text in the PDF"
        assert re.sub(r"\s+", "", title) in text, f"{stem}: its title is not in its pages' text"
        if stem in CHAPTERS:
            images = sum(_image_count(reader.pages[i]) for i in range(first, last))
            assert images > 0, f"{stem}: no figure in the PDF"
    assert f'href="{lang}/book.pdf"' in (HTML / "index.html").read_text(encoding="utf-8")


@pytest.mark.parametrize("lang, query, stem", [("ko", "퍼셉트론은", "퍼셉트론"), ("en", "perceptron", "perceptron")])
def test_search_results_show_an_excerpt_of_the_prose(server, page, lang, query, stem):
    open_page(page, f"{server}/{lang}/search.html?q={query}")
    page.wait_for_function("document.querySelectorAll('#search-results ul.search li p.context').length >= 3",
                           timeout=30000)
    results = page.eval_on_selector_all("#search-results ul.search li", """els => els.slice(0, 3).map(e => ({
        title: e.querySelector('a').innerText, context: (e.querySelector('p.context') || {}).innerText || ''}))""")
    for r in results:
        text = r["context"].strip(". ")
        assert len(text) > 60 and stem in text.lower(), r
        assert "  " not in text and "\n" not in text and not text.startswith(r["title"]), r
