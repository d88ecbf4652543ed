"""The book's settings, read from ``_config.yml`` and ``_toc.yml`` — the one place they live."""
from __future__ import annotations

import functools
import os
from dataclasses import dataclass
from pathlib import Path

import yaml

MARKERS = ("_config.yml", "_toc.yml")  # what makes a folder a checkout of the book


def is_checkout(folder: Path) -> bool:
    return all((folder / m).is_file() for m in MARKERS)


def find_root(cwd: Path | None = None, env: dict | None = None) -> Path:
    """The checkout the tools act on.

    ``$DLBOOK_ROOT`` if set; else the nearest folder at or above the current directory that holds
    ``_config.yml`` and ``_toc.yml`` (so a checkout's tools act on that checkout, whichever
    environment they were installed into); else the checkout the tools were installed from
    (``pip install -e ./tools``), so that the course kit also works from an instructor's home folder.
    """
    env = os.environ if env is None else env
    if env.get("DLBOOK_ROOT"):
        root = Path(env["DLBOOK_ROOT"]).expanduser().resolve()
        if not is_checkout(root):
            raise RuntimeError(f"DLBOOK_ROOT={env['DLBOOK_ROOT']} is not a checkout of the book: "
                               f"expected {' and '.join(MARKERS)} there")
        return root
    here = (cwd or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if is_checkout(folder):
            return folder
    return Path(__file__).resolve().parents[2]


ROOT = find_root()


@dataclass(frozen=True)
class Edition:
    code: str      # "ko" | "en"
    language: str  # Sphinx language
    label: str     # shown in the language switch
    title: str

    @property
    def source(self) -> Path:
        return ROOT / "chapters" / self.code


@functools.lru_cache
def book_config(root: Path = ROOT) -> dict:
    if not is_checkout(root):
        raise RuntimeError(f"{root} is not a checkout of the book (no {' or '.join(MARKERS)}): run dlbook-tools "
                           "inside a clone of the repository, or set DLBOOK_ROOT to one")
    return yaml.safe_load((root / "_config.yml").read_text(encoding="utf-8"))


def editions(root: Path = ROOT) -> list[Edition]:
    """The editions, the default (Korean) first."""
    table = book_config(root)["sphinx"]["config"]["dlbook_editions"]
    return [Edition(code, e["language"], e["label"], e["title"]) for code, e in table.items()]


def default_edition(root: Path = ROOT) -> Edition:
    return editions(root)[0]


def repository(root: Path = ROOT) -> tuple[str, str]:
    """(url, branch) of the book's repository."""
    repo = book_config(root)["repository"]
    return repo["url"].rstrip("/"), repo.get("branch", "main")


def github_path(root: Path = ROOT) -> str:
    """``owner/name`` for Colab and raw links."""
    url, _ = repository(root)
    return url.split("github.com/", 1)[1]


def colab_url(path: str, root: Path = ROOT) -> str:
    """Colab link for a notebook path relative to the repository root."""
    _, branch = repository(root)
    return f"https://colab.research.google.com/github/{github_path(root)}/blob/{branch}/{path}"


def toc(root: Path = ROOT) -> dict:
    return yaml.safe_load((root / "_toc.yml").read_text(encoding="utf-8"))


def toc_for(edition: Edition, root: Path = ROOT) -> dict:
    """The table of contents of one edition: captions given per language are resolved."""

    def resolve(node):
        if isinstance(node, dict):
            return {k: (v[edition.code] if k == "caption" and isinstance(v, dict) else resolve(v)) for k, v in node.items()}
        if isinstance(node, list):
            return [resolve(v) for v in node]
        return node

    return resolve(toc(root))


def chapter_stems(root: Path = ROOT) -> list[str]:
    """Every page of the table of contents, in order (``index``, ``05_perceptron``, …)."""
    t = toc(root)
    stems = [t["root"]]
    for part in t.get("parts", []):
        stems += [c["file"] for c in part.get("chapters", [])]
    return stems
