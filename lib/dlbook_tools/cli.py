"""``dlbook-tools``: the book's chores from one command.

  dlbook-tools book                         build both editions into _build/html
  dlbook-tools execute chapters/ko/X.ipynb  run a chapter, keep checked outputs, copy code to the other edition
  dlbook-tools sync chapters/ko/X.ipynb     copy code cells (and checked outputs) to the other edition
  dlbook-tools header [--check]             write the standard header/footer cells everywhere
  dlbook-tools exercises [--check] [STEM]   generate exercises/ from solutions/ with nbgrader
  dlbook-tools course init DIR [STEM...]    create an nbgrader course from this book
  dlbook-tools check                        editions in step, headers and exercises current
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from . import course, notebooks
from .config import ROOT, default_edition, editions


def _edition_of(path: Path) -> str:
    lang = Path(path).resolve().parent.name
    if lang not in {e.code for e in editions()}:
        raise SystemExit(f"{path}: expected a chapter under chapters/<{'|'.join(e.code for e in editions())}>/")
    return lang


def cmd_sync(paths, execute=False) -> int:
    for path in map(Path, paths):
        lang = _edition_of(path)
        nb = notebooks.read(path)
        notebooks.stamp(nb, lang, path.stem)
        if execute:
            print(f"executing {path} …", flush=True)
            notebooks.execute(nb, path.resolve().parent)
        notebooks.write(nb, path)
        for other in notebooks.other_editions(lang):
            target = notebooks.counterpart(path, other)
            if not target.exists():
                raise SystemExit(f"{target} does not exist: write the {other} edition's prose first (copy {path})")
            tnb = notebooks.read(target)
            changes = notebooks.sync_code(nb, tnb)
            notebooks.stamp(tnb, other, path.stem)
            notebooks.write(tnb, target)
            print(f"{target}: {len(changes)} change(s)" + "".join(f"\n  {c}" for c in changes))
    return 0


def all_notebooks(root: Path = ROOT):
    """(path, lang or None) for every chapter and solution notebook."""
    for e in editions(root):
        for p in sorted((root / "chapters" / e.code).glob("*.ipynb")):
            yield p, e.code
    for p in sorted((root / "solutions").glob("*.ipynb")):
        yield p, None


def cmd_header(check: bool) -> int:
    stale = []
    for path, lang in all_notebooks():
        nb = notebooks.read(path)
        if notebooks.stamp(nb, lang, path.stem):
            stale.append(path)
            if not check:
                notebooks.write(nb, path)
    for p in stale:
        print(("stale: " if check else "updated: ") + str(p.relative_to(ROOT)))
    return 1 if (check and stale) else 0


def problems(root: Path = ROOT) -> list[str]:
    """Everything `check` complains about."""
    found = []
    base = default_edition(root)
    for path in sorted((root / "chapters" / base.code).glob("*.ipynb")):
        for other in notebooks.other_editions(base.code):
            twin = notebooks.counterpart(path, other)
            if not twin.exists():
                found.append(f"{twin.relative_to(root)} is missing")
                continue
            for d in notebooks.code_differences(notebooks.read(path), notebooks.read(twin)):
                found.append(f"{path.name} ({base.code} vs {other}): {d}")
    for path, lang in all_notebooks(root):
        if notebooks.stamp(notebooks.read(path), lang, path.stem, root):
            found.append(f"{path.relative_to(root)}: header/footer not current (run `dlbook-tools header`)")
    return found


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="dlbook-tools", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="cmd", required=True)
    b = sub.add_parser("book", help="build the HTML book")
    b.add_argument("--jupyterhub-url", default=None, help="add a JupyterHub (nbgitpuller) launch button")
    for name in ("sync", "execute"):
        s = sub.add_parser(name)
        s.add_argument("paths", nargs="+")
    h = sub.add_parser("header")
    h.add_argument("--check", action="store_true")
    x = sub.add_parser("exercises")
    x.add_argument("--check", action="store_true")
    x.add_argument("stems", nargs="*")
    c = sub.add_parser("course")
    c.add_argument("action", choices=["init"])
    c.add_argument("dir")
    c.add_argument("stems", nargs="*")
    c.add_argument("--students", default="", help="comma-separated student ids to add")
    sub.add_parser("check")
    args = parser.parse_args(argv)

    if args.cmd == "book":
        from .book import build

        build(jupyterhub_url=args.jupyterhub_url)
        return 0
    if args.cmd in ("sync", "execute"):
        return cmd_sync(args.paths, execute=args.cmd == "execute")
    if args.cmd == "header":
        return cmd_header(args.check)
    if args.cmd == "exercises":
        stale = course.generate_exercises(args.stems or None, check=args.check)
        for s in stale:
            print(("stale: " if args.check else "generated: ") + f"exercises/{s}.ipynb")
        return 1 if (args.check and stale) else 0
    if args.cmd == "course":
        students = [s for s in args.students.split(",") if s]
        where = course.init_course(Path(args.dir), args.stems or None, students=students)
        print(f"course ready in {where}: cd there and use nbgrader (see README)")
        return 0
    if args.cmd == "check":
        found = problems()
        print("\n".join(found) or "all in step")
        return 1 if found else 0
    return 2


if __name__ == "__main__":
    sys.exit(main())
