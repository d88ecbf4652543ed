"""``dlbook-tools``: the book's chores from one command.

  dlbook-tools book                         build both editions into _build/html
  dlbook-tools execute chapters/ko/X.ipynb  copy a chapter's code to the other edition, run both, keep checked outputs
  dlbook-tools sync chapters/ko/X.ipynb     copy code cells to the other edition (changed cells lose their outputs)
  dlbook-tools header [--check]             write the standard header/footer cells everywhere
  dlbook-tools exercises [--check] [STEM]   generate exercises/ from solutions/ with nbgrader
  dlbook-tools course init|release|collect|autograde|feedback|export|report …
                                            the instructor's kit (nbgrader course, sandboxed grading)
  dlbook-tools check                        editions in step, headers current, ruff clean
"""
from __future__ import annotations

import argparse
import importlib.util
import os
import subprocess
import sys
from pathlib import Path

from . import course, notebooks
from .config import ROOT, default_edition, editions, is_checkout


def _edition_of(path: Path) -> str:
    lang = Path(path).resolve().parent.name
    if lang not in {e.code for e in editions()}:
        raise SystemExit(f"{path}: expected a chapter under chapters/<{'|'.join(e.code for e in editions())}>/")
    return lang


def _report_figures(path, problems) -> None:
    """Say which figures do not speak the edition's language (tests/test_edition_language.py checks the book)."""
    if problems:
        print(f"{path}: {len(problems)} figure label(s) not in the edition's language:"
              + "".join(f"\n  {p}" for p in problems), flush=True)


def cmd_sync(paths, execute=False) -> int:
    """Carry each notebook's code to the other editions; with ``execute``, run every edition.

    Each edition runs on its own, since its outputs (figure labels, printed labels) speak its
    language; the code is the same but for the header's ``set_language`` line.
    """
    for path in map(Path, paths):
        lang = _edition_of(path)
        nb = notebooks.read(path)
        notebooks.stamp(nb, lang, path.stem)
        if execute:
            print(f"executing {path} …", flush=True)
            _report_figures(path, notebooks.execute(nb, path.resolve().parent, lang=lang))
        notebooks.write(nb, path)
        for other in notebooks.other_editions(lang):
            target = notebooks.counterpart(path, other)
            if not target.exists():
                raise SystemExit(f"{target} does not exist: write the {other} edition's prose first (copy {path})")
            tnb = notebooks.read(target)
            changes = notebooks.sync_code(nb, tnb)
            notebooks.stamp(tnb, other, path.stem)
            print(f"{target}: {len(changes)} change(s)" + "".join(f"\n  {c}" for c in changes), flush=True)
            if execute:
                print(f"executing {target} …", flush=True)
                _report_figures(target, notebooks.execute(tnb, target.resolve().parent, lang=other))
            notebooks.write(tnb, target)
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


def lint_problems(root: Path = ROOT, paths: list[str] | tuple[str, ...] = ()) -> list[str]:
    """ruff's findings, one line each: ``python -m ruff check`` run in ``root`` over ``paths`` (default:
    what ``[tool.ruff]`` in pyproject.toml includes — the Python under lib, tests, bench and scripts)."""
    if importlib.util.find_spec("ruff") is None:
        return ['ruff is not installed: pip install -e ".[test]"']
    done = subprocess.run([sys.executable, "-m", "ruff", "check", "--output-format", "concise", "--no-fix",
                           *map(str, paths)], cwd=root, capture_output=True, text=True)
    if done.returncode == 0:
        return []
    lines = [ln for ln in done.stdout.splitlines() if ln.strip() and not ln.startswith(("Found ", "[*] "))]
    return [f"ruff: {ln}" for ln in lines] or [f"ruff failed ({done.returncode}): {done.stderr.strip()[-2000:]}"]


# --------------------------------------------------------------------------- course (instructor's kit)
def _limits(args) -> dict:
    from .sandbox import parse_size

    out = {}
    if getattr(args, "cell_timeout", None):
        out["cell_timeout"] = args.cell_timeout
    if getattr(args, "notebook_timeout", None):
        out["notebook_timeout"] = args.notebook_timeout
    if getattr(args, "memory", None):
        out["memory"] = parse_size(args.memory)
    return out


class IntermixedParser(argparse.ArgumentParser):
    """Options and positionals in any order, as the README writes them:
    ``course init course --roster roster.csv 05_perceptron 06_mlp`` (plain argparse binds the stems
    right after DIR and then rejects them)."""

    _inner = False

    def parse_known_args(self, args=None, namespace=None):
        if self._inner:  # parse_known_intermixed_args calls back into parse_known_args
            return super().parse_known_args(args, namespace)
        self._inner = True
        try:
            return self.parse_known_intermixed_args(args, namespace)
        finally:
            self._inner = False


def add_course_parser(sub) -> None:
    c = sub.add_parser("course", help="the instructor's kit: an nbgrader course with sandboxed autograding",
                       description="An nbgrader course made from this book, with hardened autograding (see README, Instructors).")
    cs = c.add_subparsers(dest="action", required=True, parser_class=IntermixedParser)

    def limits(p):
        p.add_argument("--cell-timeout", type=int, help="seconds per cell (default 60)")
        p.add_argument("--notebook-timeout", type=int, help="seconds per notebook (default 600)")
        p.add_argument("--memory", help="memory per process, e.g. 2G (default 2G)")

    p = cs.add_parser("init", help="create an nbgrader course: config, source/ from solutions/, gradebook with the roster")
    p.add_argument("dir")
    p.add_argument("stems", nargs="*", help="exercises, e.g. 05_perceptron (default: all)")
    p.add_argument("--roster", help="CSV with an id column (and first_name, last_name, email, lms_user_id)")
    p.add_argument("--students", default="", help="comma-separated student ids to add")
    p.add_argument("--db", help="gradebook URL (default sqlite:///DIR/gradebook.db), e.g. postgresql+psycopg://user@host/db")
    p.add_argument("--exchange", help="nbgrader exchange directory (JupyterHub: /srv/nbgrader/exchange)")
    p.add_argument("--course-id", help="nbgrader course id (default dlbook)")
    p.add_argument("--no-sandbox", action="store_true", help="grade WITHOUT isolation (only where bubblewrap cannot exist)")
    limits(p)

    p = cs.add_parser("release", help="regenerate release/ and (with --exchange) release through nbgrader's exchange")
    p.add_argument("dir")
    p.add_argument("stems", nargs="+")
    p.add_argument("--exchange", action="store_true")

    p = cs.add_parser("collect", help="collect submissions from a folder / LMS zip (or nbgrader's exchange)")
    p.add_argument("dir")
    p.add_argument("stem")
    p.add_argument("--from", dest="source", help="folder, .zip or .ipynb of uploads")
    p.add_argument("--exchange", action="store_true", help="run `nbgrader collect` first")
    p.add_argument("--pattern", help="regex with a (?P<student>...) group applied to each upload's path")
    p.add_argument("--by", action="append", default=[], help="roster column that appears in upload names")

    p = cs.add_parser("autograde", help="grade every submission, each in its own sandbox, in parallel")
    p.add_argument("dir")
    p.add_argument("stem")
    p.add_argument("--jobs", "-j", type=int, help="parallel sandboxes (default: every core)")
    p.add_argument("--student", action="append", default=[], help="only this student (repeatable)")
    p.add_argument("--no-sandbox", action="store_true", help="grade WITHOUT isolation")
    limits(p)

    p = cs.add_parser("feedback", help="HTML feedback per student, hidden tests scrubbed")
    p.add_argument("dir")
    p.add_argument("stem")

    p = cs.add_parser("export", help="grades as CSV (score, status, reason)")
    p.add_argument("dir")
    p.add_argument("--to", help="CSV path (default DIR/grades.csv)")

    p = cs.add_parser("report", help="every student: score, or the exact reason there is none")
    p.add_argument("dir")
    p.add_argument("stem")
    p.add_argument("--lang", choices=["en", "ko"], default="en")
    p.add_argument("--json", action="store_true")


def cmd_course(args) -> int:
    import json

    from .grading import SafeStream

    if not isinstance(sys.stdout, SafeStream):  # no terminal escape from a student's file name or error reaches the console
        saved, sys.stdout = sys.stdout, SafeStream(sys.stdout)
        try:
            return cmd_course(args)
        finally:
            sys.stdout = saved
    where = Path(args.dir)
    if args.action == "init":
        students = [s for s in args.students.split(",") if s]
        where = course.init_course(where, args.stems or None, students=students, roster=args.roster, db=args.db,
                                   exchange=args.exchange, limits=_limits(args), course_id=args.course_id,
                                   sandbox=False if args.no_sandbox else None)
        print(f"course ready in {where}: next `dlbook-tools course collect {args.dir} STEM --from UPLOADS` (see README)")
        return 0
    if args.action == "release":
        for path in course.release(where, args.stems, exchange=args.exchange):
            print(f"released: {path}")
        return 0
    if args.action == "collect":
        if not args.source and not args.exchange:
            raise SystemExit("collect needs --from FOLDER_OR_ZIP or --exchange")
        got = course.collect(where, args.stem, Path(args.source) if args.source else None, exchange=args.exchange,
                             pattern=args.pattern, by=tuple(args.by))
        print(f"{len(got['students'])} student(s) with a submission; {got['uploads']} upload(s) kept; manifest {got['manifest']}")
        for u in got["unmatched"]:
            print(f"  unmatched: {u['source']} — {u['reason']}")
        for p in got["problems"]:
            print(f"  not collected: {p['source']} — {p['reason']}" + (f" (shown on {p['student']}'s row)" if p.get("student") else ""))
        return 0
    if args.action == "autograde":
        rep = course.autograde(where, args.stem, students=args.student or None, jobs=args.jobs, limits=_limits(args),
                               sandbox=False if args.no_sandbox else None, log=print)
        rows = [r for r in rep["students"] if not args.student or r["student"] in args.student]
        print(course.format_report(rows))
        return 0
    if args.action == "feedback":
        files = course.feedback(where, args.stem)
        print(f"{len(files)} feedback file(s) under {where / 'feedback'}")
        for w in files.withheld:
            print(f"  withheld: {w['student']} — {w['reason']}")
        return 0
    if args.action == "export":
        print(f"grades written to {course.export(where, args.to)}")
        return 0
    if args.action == "report":
        rows = course.report(where, args.stem)
        print(json.dumps(rows, ensure_ascii=False, indent=1) if args.json else course.format_report(rows, args.lang))
        from .review import analysis, format_analysis

        found = analysis(where, args.stem, rows)  # item analysis, chart, similarity: written to DIR/reports/
        if not args.json:
            print(format_analysis(found, args.lang))
        return 0
    return 2


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="dlbook-tools", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="cmd", required=True)
    b = sub.add_parser("book", help="build the HTML book")
    b.add_argument("--jupyterhub-url", default=None, help="add a JupyterHub (nbgitpuller) launch button")
    b.add_argument("--pdf", action="store_true", help="also print a PDF of each edition (needs Chromium)")
    for name in ("sync", "execute"):
        s = sub.add_parser(name)
        s.add_argument("paths", nargs="+")
    h = sub.add_parser("header")
    h.add_argument("--check", action="store_true")
    x = sub.add_parser("exercises")
    x.add_argument("--check", action="store_true")
    x.add_argument("stems", nargs="*")
    add_course_parser(sub)
    sub.add_parser("check")
    return parser


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    if is_checkout(ROOT):  # the processes the tools start (grading workers, the book build) act on the same checkout
        os.environ.setdefault("DLBOOK_ROOT", str(ROOT))

    if args.cmd == "book":
        from .book import build

        build(jupyterhub_url=args.jupyterhub_url, pdf=args.pdf)
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
        return cmd_course(args)
    if args.cmd == "check":
        found = problems() + lint_problems()
        print("\n".join(found) or "all in step")
        return 1 if found else 0
    return 2


if __name__ == "__main__":
    sys.exit(main())
