"""The book's settings, read from ``_config.yml`` and ``_toc.yml`` — the one place they live."""
from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]


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
