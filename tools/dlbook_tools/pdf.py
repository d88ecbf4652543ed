"""A PDF of each edition, printed offline from the built HTML (``dlbook-tools book --pdf``).

Chromium prints every page of the table of contents, in order, from ``_build/html`` served on
127.0.0.1 (so the book's own fonts and MathJax load as they do for a reader), with the print
stylesheet of ``static/dlbook.css`` (no sidebars, no buttons); pypdf joins the pages into
``_build/html/<code>/book.pdf`` with one bookmark per page. Needs Chromium (Debian's ``chromium``,
or ``DLBOOK_CHROMIUM``) and playwright's Python API, never a browser download.
"""
from __future__ import annotations

import functools
import http.server
import io
import os
import shutil
import threading
from contextlib import contextmanager
from pathlib import Path

from .config import chapter_stems, editions

PDF_NAME = "book.pdf"


def chromium() -> str:
    """The Chromium to print with: ``DLBOOK_CHROMIUM``, else the first on PATH."""
    found = os.environ.get("DLBOOK_CHROMIUM") or next(
        (shutil.which(n) for n in ("chromium", "chromium-browser", "google-chrome") if shutil.which(n)), None)
    if not found or not Path(found).exists():
        raise RuntimeError("printing the PDF needs Chromium: install Debian's `chromium` or set DLBOOK_CHROMIUM")
    return found


@contextmanager
def serve(directory: Path):
    """``directory`` over HTTP on 127.0.0.1; yields the base URL."""
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(directory))
    handler.log_message = lambda *args: None
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()


def _print_page(page, url: str) -> bytes:
    response = page.goto(url)
    if not (response and response.ok):
        raise RuntimeError(f"cannot print {url}: {response.status if response else 'no response'}")
    page.wait_for_load_state("load")
    page.evaluate("window.MathJax && MathJax.startup ? MathJax.startup.promise : null")
    page.evaluate("document.fonts.ready.then(() => true)")
    return page.pdf(format="A4", print_background=True, margin={"top": "16mm", "bottom": "16mm", "left": "14mm",
                                                               "right": "14mm"})


def page_title(page) -> str:
    return page.evaluate("(document.querySelector('article h1') || document.querySelector('h1') || {}).innerText"
                         " || document.title").replace("#", "").strip()


def build_pdfs(html: Path) -> list[Path]:
    """Print each edition of the built book in ``html`` to ``html/<code>/book.pdf``; return the paths."""
    from playwright.sync_api import sync_playwright
    from pypdf import PdfReader, PdfWriter

    written = []
    with serve(html) as base, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium(),
                                    args=["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"])
        page = browser.new_page(viewport={"width": 1000, "height": 1400})
        for edition in editions():
            writer = PdfWriter()
            for stem in chapter_stems():
                data = _print_page(page, f"{base}/{edition.code}/{stem}.html")
                start = len(writer.pages)
                writer.append(PdfReader(io.BytesIO(data)))
                writer.add_outline_item(page_title(page), start)
            writer.add_metadata({"/Title": edition.title, "/Lang": edition.code})
            target = html / edition.code / PDF_NAME
            with open(target, "wb") as f:
                writer.write(f)
            print(f"  {target.relative_to(html)}: {len(writer.pages)} pages", flush=True)
            written.append(target)
        browser.close()
    return written
