"""Build the HTML book: each edition from ``chapters/<code>/`` into ``_build/html/<code>/``,
plus a landing page at ``_build/html/index.html`` where a reader picks a language.

Both editions share one jupyter-cache whose key covers only code cells and the
kernelspec, so a chapter's code runs once per build although two editions show it.
Before the editions are built, the notebooks the cache lacks are executed several at a
time (:func:`prime_cache`); jupyter-book itself would run them one after another. A notebook
that the test run has just executed under nbval (:mod:`dlbook_tools.executed`, kept in
``_build/executed/``) is taken as it ran instead of being executed a second time.
Warnings are errors (``-W -n --keep-going``) and a notebook that fails to execute
fails the build.
"""
from __future__ import annotations

import copy
import html
import os
import re
import shutil
import subprocess
import sys
import tarfile
import time
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from pathlib import Path

import yaml

from .config import ROOT, book_config, editions, toc_for

BUILD = ROOT / "_build"
HTML = BUILD / "html"
CACHE = BUILD / ".jupyter_cache"
EXECUTED = BUILD / "executed"  # notebooks as nbval executed them (dlbook_tools.executed)
VENDOR = BUILD / "vendor" / "static"
MATHJAX = "mathjax@3.2.2"


def vendor_mathjax() -> str | None:
    """Serve MathJax from the book itself so that math renders offline.

    MathJax comes from the npm registry (``npm pack``) once per build folder; without
    npm the book falls back to the CDN configured in ``_config.yml``. Returns the
    ``mathjax_path`` to use (relative to ``_static``) or None for the CDN.
    """
    target = VENDOR / "mathjax" / "es5" / "tex-mml-chtml.js"
    if target.exists():
        return "mathjax/es5/tex-mml-chtml.js"
    npm = shutil.which("npm")
    if npm is None:
        print("npm not found: MathJax will load from its CDN (math needs a network)", flush=True)
        return None
    packs = BUILD / "vendor"
    packs.mkdir(parents=True, exist_ok=True)
    name = subprocess.run([npm, "pack", MATHJAX, "--silent", "--pack-destination", str(packs)],
                          check=True, capture_output=True, text=True).stdout.strip().splitlines()[-1]
    with tarfile.open(packs / name) as tar:
        members = [m for m in tar.getmembers() if m.name.startswith("package/es5/")]
        for m in members:
            m.name = m.name[len("package/"):]
        tar.extractall(VENDOR / "mathjax", members=members, filter="data")
    return "mathjax/es5/tex-mml-chtml.js"


# The book's own fonts, from the npm registry (Fontsource: woff2 files sliced by unicode-range, so a
# page downloads only the slices its characters need): Korean text, and a monospace that has Hangul.
FONTS = {"noto-sans-kr": ("@fontsource/noto-sans-kr@5.3.0", (400, 700)),
         "nanum-gothic-coding": ("@fontsource/nanum-gothic-coding@5.3.0", (400, 700))}
FONTS_CSS = "fonts/fonts.css"  # relative to _static
# Each font is also served as a Hangul-only family, for the front of a font stack whose other fonts
# draw the Latin text: a browser meets a generic family (sans-serif, monospace) before a later web
# font, and its system fallback draws boxes where no system font has Hangul.
HANGUL_ONLY = {"noto-sans-kr": "dlbook Hangul", "nanum-gothic-coding": "dlbook Hangul Mono"}
HANGUL = [(0x1100, 0x11FF), (0x3130, 0x318F), (0xA960, 0xA97F), (0xAC00, 0xD7FF)]


def hangul_range(unicode_range: str) -> str:
    """The part of a CSS unicode-range (``U+39,U+ac00-ac2f``) that is Hangul (``U+ac00-ac2f``), or ""."""
    kept = []
    for part in unicode_range.replace(" ", "").split(","):
        lo, _, hi = part.upper().removeprefix("U+").partition("-")
        lo, hi = int(lo, 16), int(hi or lo, 16)
        for a, b in HANGUL:
            start, end = max(lo, a), min(hi, b)
            if start <= end:
                kept.append(f"U+{start:x}" if start == end else f"U+{start:x}-{end:x}")
    return ",".join(kept)


def _hangul_only_faces(css: str, family: str) -> str:
    """Copies of the @font-face rules of ``css`` under ``family``, cut to their Hangul ranges."""
    faces = []
    for face in re.findall(r"@font-face \{.*?\}", css, flags=re.S):
        found = re.search(r"unicode-range: ([^;]+);", face)
        cut = hangul_range(found.group(1)) if found else ""
        if cut:
            face = re.sub(r"font-family: [^;]+;", f"font-family: '{family}';", face)
            faces.append(face.replace(found.group(0), f"unicode-range: {cut};"))
    return "\n".join(faces)


def vendor_fonts() -> str | None:
    """Serve the Korean web font and the Hangul monospace from the book, so that Korean renders the
    same on every OS and offline. Returns the stylesheet path (relative to ``_static``), or None when
    npm is missing (the book then uses the reader's system fonts)."""
    target = VENDOR / FONTS_CSS
    if target.exists():
        return FONTS_CSS
    npm = shutil.which("npm")
    if npm is None:
        print("npm not found: the book uses the reader's system fonts for Korean", flush=True)
        return None
    packs = BUILD / "vendor"
    packs.mkdir(parents=True, exist_ok=True)
    sheets = []
    for name, (spec, weights) in FONTS.items():
        tgz = subprocess.run([npm, "pack", spec, "--silent", "--pack-destination", str(packs)],
                             check=True, capture_output=True, text=True).stdout.strip().splitlines()[-1]
        with tarfile.open(packs / tgz) as tar:
            for weight in weights:
                css = tar.extractfile(f"package/{weight}.css").read().decode("utf-8")
                # woff2 only (every browser the book supports reads it); the woff fallbacks are not shipped
                css = re.sub(r", url\(\./files/[^)]+\.woff\) format\('woff'\)", "", css)
                files = re.findall(r"url\(\./files/([^)]+\.woff2)\)", css)
                members = [tar.getmember(f"package/files/{f}") for f in files]
                for m in members:
                    m.name = m.name[len("package/"):]
                tar.extractall(target.parent / name, members=members, filter="data")
                css = css.replace("url(./files/", f"url(./{name}/files/")
                sheets += [css, _hangul_only_faces(css, HANGUL_ONLY[name])]
    target.write_text("\n".join(sheets), encoding="utf-8")
    return FONTS_CSS


def edition_config(edition, *, jupyterhub_url: str | None = None, mathjax_path: str | None = None,
                   fonts_css: str | None = None) -> dict:
    """``_config.yml`` with the keys that differ per edition filled in."""
    cfg = copy.deepcopy(book_config())
    cfg["title"] = edition.title
    cfg["repository"]["path_to_book"] = f"chapters/{edition.code}"
    cfg["execute"]["cache"] = str(CACHE)
    sphinx = cfg["sphinx"]["config"]
    sphinx["language"] = edition.language
    sphinx["dlbook_edition"] = edition.code
    if mathjax_path:
        sphinx["mathjax_path"] = mathjax_path
    if fonts_css:
        sphinx["html_css_files"] = [*sphinx.get("html_css_files", []), fonts_css]
    if mathjax_path or fonts_css:
        sphinx["html_static_path"] = [str(VENDOR)]
    hub = jupyterhub_url if jupyterhub_url is not None else os.environ.get("DLBOOK_JUPYTERHUB_URL", "")
    cfg["launch_buttons"]["jupyterhub_url"] = hub
    return cfg


def build_edition(edition, *, jupyterhub_url: str | None = None, mathjax_path: str | None = None,
                  fonts_css: str | None = None) -> Path:
    work = BUILD / "editions" / edition.code
    work.mkdir(parents=True, exist_ok=True)
    config_path, toc_path = work / "_config.yml", work / "_toc.yml"
    config_path.write_text(yaml.safe_dump(edition_config(edition, jupyterhub_url=jupyterhub_url, mathjax_path=mathjax_path, fonts_css=fonts_css), allow_unicode=True, sort_keys=False), encoding="utf-8")
    toc_path.write_text(yaml.safe_dump(toc_for(edition), allow_unicode=True, sort_keys=False), encoding="utf-8")
    # Sphinx starts clean every time (a stale environment keeps stale search terms); the notebooks'
    # execution is what costs time, and the shared jupyter-cache keeps that between builds.
    shutil.rmtree(work / "_build", ignore_errors=True)
    cmd = [
        sys.executable, "-c", "from jupyter_book.cli.main import main; main()", "build", str(edition.source),
        "--config", str(config_path), "--toc", str(toc_path), "--path-output", str(work),
        "-W", "-n", "--keep-going",
    ]
    print("+", " ".join(cmd), flush=True)
    subprocess.run(cmd, check=True, cwd=ROOT)
    return work / "_build" / "html"


def _set_environ(env: dict[str, str]) -> None:
    """A worker's environment, which its kernels inherit."""
    os.environ.update(env)


def _execute_notebook(path: str, timeout: int) -> tuple[str, float, str | None]:
    """Run one notebook in its folder (in a worker process); return (executed JSON, seconds, error)."""
    import nbformat
    from nbclient import NotebookClient

    nb = nbformat.read(path, as_version=4)
    start = time.perf_counter()
    try:
        NotebookClient(nb, timeout=timeout, kernel_name="python3",
                       resources={"metadata": {"path": str(Path(path).parent)}}).execute()
    except Exception as exc:  # reported here; jupyter-book runs the notebook again and fails the build
        return "", time.perf_counter() - start, f"{type(exc).__name__}: {str(exc)[-2000:]}"
    return nbformat.writes(nb), time.perf_counter() - start, None


def notebooks_of(edition) -> list[Path]:
    """The edition's notebooks, in the order of the table of contents."""
    stems = [c.get("file") for part in toc_for(edition).get("parts", []) for c in part.get("chapters", [])]
    return [p for p in (edition.source / f"{s}.ipynb" for s in stems if s) if p.exists()]


def kept_path(path: Path, where: Path) -> Path:
    """Where the executed copy of notebook ``path`` is kept under ``where`` (its path in the repository)."""
    path = Path(path).resolve()
    return Path(where) / (path.relative_to(ROOT) if path.is_relative_to(ROOT) else path.name)


def _cache_executed_by_tests(cache, path: Path, executed: Path = EXECUTED) -> bool:
    """Cache the copy of ``path`` that nbval executed (:mod:`dlbook_tools.executed`) if there is one and
    its code cells are the notebook's; return whether it was cached."""
    from jupyter_cache.base import CacheBundleIn

    from . import notebooks

    kept = kept_path(path, executed)
    if not kept.is_file():
        return False
    ran, now = notebooks.read(kept), notebooks.read(path)
    if [c.source for c in notebooks.code_cells(ran)] != [c.source for c in notebooks.code_cells(now)]:
        return False
    cache.cache_notebook_bundle(CacheBundleIn(ran, str(path), data={"execution_seconds": 0.0}),
                                check_validity=False, overwrite=True)
    print(f"  {kept.relative_to(executed)}: as the tests executed it", flush=True)
    return True


def prime_cache(paths: list[Path], cache_dir: Path = CACHE, jobs: int | None = None) -> list[str]:
    """Execute the notebooks that the jupyter-cache at ``cache_dir`` lacks, ``jobs`` at a time.

    Each kernel gets ``OMP_NUM_THREADS`` = cores // jobs (at least 1), so the cores are shared, not
    oversubscribed. The cache is keyed as the build keys it (code and tags), so the build itself
    only reads it. Returns the notebooks that failed: the build runs those
    again and reports their error in its usual way.
    """
    import nbformat
    from jupyter_cache import get_cache
    from jupyter_cache.base import CacheBundleIn

    from .sphinx_ext import _key_cache_on_code

    _key_cache_on_code()
    cache = get_cache(str(cache_dir))
    todo = []
    for path in paths:
        try:
            cache.match_cache_notebook(nbformat.read(path, as_version=4))
        except KeyError:
            todo.append(Path(path))
    todo = [p for p in todo if not _cache_executed_by_tests(cache, p)]
    if not todo:
        return []
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    jobs = max(1, min(jobs or cores, len(todo)))
    env = {"OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS") or str(max(1, cores // jobs))}
    timeout = int(book_config()["execute"].get("timeout", 300))
    print(f"executing {len(todo)} notebook(s), {jobs} at a time (OMP_NUM_THREADS={env['OMP_NUM_THREADS']})", flush=True)
    failed = []
    todo.sort(key=lambda p: -p.stat().st_size)  # largest first, so the last worker is not left alone with one
    with ProcessPoolExecutor(jobs, mp_context=get_context("spawn"), initializer=_set_environ, initargs=(env,)) as pool:
        futures = {pool.submit(_execute_notebook, str(p), timeout): p for p in todo}
        for future, path in futures.items():
            text, seconds, error = future.result()
            name = path.relative_to(ROOT) if path.is_relative_to(ROOT) else path
            if error:
                print(f"  {name}: failed after {seconds:.0f} s: {error}", flush=True)
                failed.append(str(name))
                continue
            cache.cache_notebook_bundle(
                CacheBundleIn(nbformat.reads(text, as_version=4), str(path), data={"execution_seconds": seconds}),
                check_validity=False, overwrite=True)
            print(f"  {name}: {seconds:.0f} s", flush=True)
    return failed


def landing_page(fonts_css: str | None = None, *, pdf: bool = False) -> str:
    """A bilingual page that lets the reader choose an edition (the default first); ``fonts_css``:
    the book's font stylesheet (relative to an edition's ``_static``), if it serves its own fonts;
    ``pdf``: link each edition's PDF (``<code>/book.pdf``)."""
    from .pdf import PDF_NAME

    cards = "\n".join(
        f'  <div class="edition" lang="{e.code}"><a class="card" hreflang="{e.code}" href="{e.code}/index.html">'
        f'<span class="title">{html.escape(e.title)}</span><span class="label">{html.escape(e.label)}</span></a>'
        + (f'<a class="pdf" hreflang="{e.code}" href="{e.code}/{PDF_NAME}">PDF</a>' if pdf else "") + "</div>"
        for e in editions()
    )
    first = editions()[0]
    return f"""<!DOCTYPE html>
<html lang="{first.code}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{html.escape(" · ".join(e.title for e in editions()))}</title>
{f'<link rel="stylesheet" href="{first.code}/_static/{fonts_css}">' if fonts_css else ""}
<style>
 body {{ font-family: "Noto Sans KR", system-ui, "Noto Sans CJK KR", "Apple SD Gothic Neo", "Malgun Gothic", sans-serif; margin: 0;
        min-height: 100vh; display: flex; flex-direction: column; align-items: center; justify-content: center; background: #f6f7f9; color: #1d2330; }}
 h1 {{ font-size: 1.6rem; text-align: center; line-height: 1.5; margin: 0 1rem 2rem; }}
 .cards {{ display: flex; gap: 1.5rem; flex-wrap: wrap; justify-content: center; }}
 .card {{ display: flex; flex-direction: column; gap: .4rem; padding: 1.6rem 2rem; min-width: 16rem; border-radius: .8rem;
         background: #fff; box-shadow: 0 2px 10px rgba(0,0,0,.08); text-decoration: none; color: inherit; }}
 .card:hover {{ box-shadow: 0 4px 18px rgba(0,0,0,.15); }}
 .title {{ font-weight: 700; font-size: 1.15rem; }}
 .label {{ color: #2b6cb0; }}
 .edition {{ display: flex; flex-direction: column; align-items: center; gap: .6rem; }}
 .pdf {{ color: #2b6cb0; font-size: .95rem; }}
</style>
</head>
<body>
<h1>{"<br>".join(html.escape(e.title) for e in editions())}</h1>
<div class="cards">
{cards}
</div>
</body>
</html>
"""


def build(*, jupyterhub_url: str | None = None, pdf: bool = False) -> Path:
    """Build every edition and the landing page (and, with ``pdf``, a PDF of each edition:
    :mod:`dlbook_tools.pdf`); return ``_build/html``."""
    HTML.mkdir(parents=True, exist_ok=True)
    mathjax_path, fonts_css = vendor_mathjax(), vendor_fonts()
    prime_cache([path for edition in editions() for path in notebooks_of(edition)])
    for edition in editions():
        built = build_edition(edition, jupyterhub_url=jupyterhub_url, mathjax_path=mathjax_path, fonts_css=fonts_css)
        target = HTML / edition.code
        if target.exists():
            shutil.rmtree(target)
        shutil.copytree(built, target)
    if pdf:
        from .pdf import build_pdfs

        build_pdfs(HTML)
    (HTML / "index.html").write_text(landing_page(fonts_css, pdf=pdf), encoding="utf-8")
    (HTML / ".nojekyll").write_text("", encoding="utf-8")
    print(f"The book is in {HTML}/index.html", flush=True)
    return HTML
