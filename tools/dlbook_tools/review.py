"""What the instructor should look at, beyond the scores: flags for review, never penalties.

* :func:`metadata_restored` — nbgrader settings of a cell (points, grade id, grade/solution/locked)
  that intake put back from the release, as bilingual notes for the report and the feedback.
* :func:`checker_rebinding` — answer cells that rebind the checking helpers (``expect*``, ``call``,
  attributes of ``dlbook.check``): the tests then check nothing. Found by reading the code (an
  obfuscated rebinding, e.g. through ``exec`` of a built string, is not found).
* :func:`item_analysis` — per test cell: the share of students passing, the most frequent failure
  messages, how well it separates strong from weak submissions; the score distribution.
* :func:`similarity` — submissions whose answer cells are identical, or identical after
  normalising names and whitespace (consistent renaming of every identifier, comments dropped).
* :func:`analysis` — both, written as ``reports/<stem>-analysis.{json,png,html}`` in the course.
"""
from __future__ import annotations

import ast
import copy
import html
import io
import json
import keyword
import re
import tokenize
from collections import Counter
from pathlib import Path

from .config import ROOT
from .grading import safe_text


def _note(kind: str, ko: str, en: str) -> dict:
    return {"kind": kind, "ko": ko, "en": en}


def _nbg(cell) -> dict:
    md = cell.get("metadata", {}).get("nbgrader") if isinstance(cell.get("metadata"), dict) else None
    return md if isinstance(md, dict) else {}


# --------------------------------------------------------------------------- what intake restored
FLAGS = ("grade", "solution", "locked", "task")


def snapshot(nb) -> list[tuple]:
    """Each cell with a copy of its nbgrader metadata, before :func:`intake.repair` (which edits in place)."""
    return [(cell, copy.deepcopy(_nbg(cell)), cell.get("cell_type")) for cell in nb.cells]


def metadata_restored(before: list[tuple]) -> list[dict]:
    """Notes for the nbgrader settings that repair put back: points, grade ids, flags."""
    points, ids, flags = [], [], []
    for cell, old, _ in before:
        new = _nbg(cell)
        gid = new.get("grade_id")
        if not gid or not old:
            continue
        if old.get("grade_id") not in (None, gid):
            ids.append(f"{old.get('grade_id')} → {gid}")
        if new.get("grade") and old.get("points") != new.get("points") and old.get("grade_id") == gid:
            points.append(f"{gid} ({_fmt(old.get('points'))} → {_fmt(new.get('points'))})")
        changed = [f for f in FLAGS if bool(old.get(f)) != bool(new.get(f))]
        if changed and old.get("grade_id") == gid:
            flags.append(f"{gid} ({', '.join(changed)})")
    notes = []
    if points:
        notes.append(_note("points-restored", f"바뀐 배점을 원래대로 되돌렸습니다: {', '.join(points)}.",
                           f"points restored: {', '.join(points)}"))
    if ids:
        notes.append(_note("grade-id-restored", f"바뀐 채점 id를 되돌렸습니다: {', '.join(ids)}.",
                           f"grade id(s) restored: {', '.join(ids)}"))
    if flags:
        notes.append(_note("flags-restored", f"셀의 nbgrader 설정(채점·답·잠금)을 되돌렸습니다: {', '.join(flags)}.",
                           f"nbgrader cell settings restored: {', '.join(flags)}"))
    return notes


def _fmt(x) -> str:
    return "–" if x is None else (f"{x:g}" if isinstance(x, (int, float)) else safe_text(str(x), oneline=True)[:20])


# --------------------------------------------------------------------------- checking helpers rebound
def _checker_names() -> set[str]:
    names = {"call", "expect", "expect_close", "expect_tensor", "ExerciseFailure"}
    try:
        tree = ast.parse((ROOT / "lib" / "dlbook" / "check.py").read_text(encoding="utf-8"))
        names |= {n.name for n in tree.body if isinstance(n, (ast.FunctionDef, ast.ClassDef)) and not n.name.startswith("_")}
    except (OSError, SyntaxError):
        pass
    return names


CHECKERS = _checker_names()


def is_checker(name) -> bool:
    return isinstance(name, str) and (name in CHECKERS or name.startswith("expect"))


def _ipython_free(source: str) -> str:
    """Cell source with IPython magics and shell escapes blanked (line numbers kept)."""
    return "\n".join("" if ln.lstrip().startswith(("%", "!")) or ln.rstrip().endswith("?") else ln
                     for ln in source.splitlines())


class _Rebinds(ast.NodeVisitor):
    def __init__(self):
        self.found: list[tuple[int, str]] = []
        self.depth = 0              # inside a function or class body: names there are local
        self.globals: list[set] = []

    def _bound(self, name: str, line: int, how: str):
        if is_checker(name) and (self.depth == 0 or (self.globals and name in self.globals[-1])):
            self.found.append((line, f"{how} {name}"))

    def _scope(self, node, names=()):
        self.depth += 1
        self.globals.append({n for s in ast.walk(node) if isinstance(s, ast.Global) for n in s.names})
        self.generic_visit(node)
        self.globals.pop()
        self.depth -= 1

    def visit_FunctionDef(self, node):
        self._bound(node.name, node.lineno, "defines")
        for d in node.decorator_list:
            self.visit(d)
        self._scope(node)

    visit_AsyncFunctionDef = visit_FunctionDef

    def visit_ClassDef(self, node):
        self._bound(node.name, node.lineno, "defines")
        self._scope(node)

    def visit_Lambda(self, node):
        self._scope(node)

    def visit_Name(self, node):
        if isinstance(node.ctx, (ast.Store, ast.Del)):
            self._bound(node.id, node.lineno, "rebinds" if isinstance(node.ctx, ast.Store) else "deletes")

    def visit_Import(self, node):
        for a in node.names:
            self._bound(a.asname or a.name.split(".")[0], node.lineno, "rebinds")

    def visit_ImportFrom(self, node):
        for a in node.names:
            if a.name == "*":
                if node.module != "dlbook.check":
                    self.found.append((node.lineno, f"star-imports {node.module} over the checks"))
                continue
            if node.module == "dlbook.check" and (a.asname or a.name) == a.name:
                continue  # the checks themselves, as the setup cell imports them
            self._bound(a.asname or a.name, node.lineno, "rebinds")

    def visit_Attribute(self, node):
        if isinstance(node.ctx, (ast.Store, ast.Del)) and is_checker(node.attr):
            self.found.append((node.lineno, f"{'sets' if isinstance(node.ctx, ast.Store) else 'deletes'} "
                                            f"{_dotted(node.value)}.{node.attr}"))
        self.generic_visit(node)

    def visit_Subscript(self, node):
        key = node.slice.value if isinstance(node.slice, ast.Constant) else None
        if isinstance(node.ctx, (ast.Store, ast.Del)) and isinstance(key, str):
            if is_checker(key):
                self.found.append((node.lineno, f"sets {_dotted(node.value)}[{key!r}]"))
            elif key.startswith("dlbook"):
                self.found.append((node.lineno, f"replaces {_dotted(node.value)}[{key!r}]"))
        self.generic_visit(node)

    def visit_Call(self, node):
        fn = _dotted(node.func)
        args = [a.value for a in node.args if isinstance(a, ast.Constant) and isinstance(a.value, str)]
        if fn in ("setattr", "delattr") and len(node.args) >= 2 and isinstance(node.args[1], ast.Constant) \
                and is_checker(node.args[1].value):
            self.found.append((node.lineno, f"{fn}(…, {node.args[1].value!r})"))
        elif fn.endswith(("globals().update", "vars().update", "__dict__.update", "locals().update")):
            self.found.append((node.lineno, f"{fn}(…)"))
        elif fn in ("exec", "eval", "builtins.exec", "builtins.eval") and any(
                re.search(r"\b(?:expect\w*|call)\b\s*=|def\s+(?:expect\w*|call)\b", a) for a in args):
            self.found.append((node.lineno, f"{fn}() of code that rebinds a check"))
        self.generic_visit(node)


def _dotted(node) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return f"{_dotted(node.value)}.{node.attr}"
    if isinstance(node, ast.Call):
        return f"{_dotted(node.func)}()"
    if isinstance(node, ast.Subscript):
        return f"{_dotted(node.value)}[…]"
    return "…"


FALLBACK = re.compile(r"^\s*(?:(?:expect\w*|call)\s*(?:,[^=]*)?=(?!=)|(?:def|class)\s+(?:expect\w*|call)\b)"
                      r"|\.(?:expect\w*|call)\s*=(?!=)", re.M)


def rebinds_in(source: str) -> list[tuple[int, str]]:
    """(line, what) for each place this code rebinds a checking helper."""
    try:
        tree = ast.parse(_ipython_free(source))
    except (SyntaxError, ValueError):
        return [(source[:m.start()].count("\n") + 1, f"rebinds a check ({m.group(0).strip()[:40]})")
                for m in FALLBACK.finditer(source)]
    v = _Rebinds()
    v.visit(tree)
    return sorted(set(v.found))


def _student_cell(cell) -> bool:
    """An answer cell, or a cell the student added: code the release did not fix."""
    m = _nbg(cell)
    return bool(m.get("solution")) or not (m.get("locked") or m.get("grade") or m.get("task"))


def checker_rebinding(nb) -> list[dict]:
    """Flags for review: each answer (or added) code cell that rebinds a checking helper."""
    flags = []
    for i, cell in enumerate(nb.cells):
        if cell.get("cell_type") != "code" or not _student_cell(cell):
            continue
        for line, what in rebinds_in(cell.get("source", "")):
            flags.append({"kind": "checker-rebound", "cell": _nbg(cell).get("grade_id") or f"cell {i + 1}",
                          "line": line, "what": what})
    return flags


def flag_text(flags: list[dict]) -> tuple[str, str]:
    """One bilingual phrase for the report row."""
    items = [f"{f['cell']} {f['what']} (line {f['line']})" for f in flags]
    items_ko = [f"{f['cell']} {f['line']}행: {f['what']}" for f in flags]
    return ("검토 필요 — 답 셀이 채점용 검사 함수를 바꿉니다(테스트가 아무것도 검사하지 못할 수 있습니다): " + "; ".join(items_ko),
            "for review — an answer cell rebinds the checking helpers (its tests may check nothing): " + "; ".join(items))


# --------------------------------------------------------------------------- item analysis
def item_analysis(rows: list[dict], top: int = 3) -> dict:
    """From the report's rows (graded ones): per test cell, the share passing, the mean share of
    its points, the most frequent failure messages and its discrimination (the correlation between
    passing it and the score on the other tests); and the distribution of total scores."""
    graded = [r for r in rows if r.get("status") == "graded" and r.get("tests") is not None]
    order: list[str] = []
    for r in graded:
        for t in r["tests"]:
            if t["id"] not in order:
                order.append(t["id"])
    items = []
    for tid in order:
        got = [(r, next((t for t in r["tests"] if t["id"] == tid), None)) for r in graded]
        got = [(r, t) for r, t in got if t is not None]
        n = len(got)
        passed = [t["score"] >= t["max"] for _, t in got]
        fails = Counter(safe_text(t.get("error") or "no output · 출력 없음", oneline=True)[:160]
                        for _, t in got if t["score"] < t["max"])
        points = max((t["max"] for _, t in got), default=0)
        rest = [(r.get("score") or 0) - t["score"] for r, t in got]
        items.append({"id": tid, "points": points, "students": n, "passed": sum(passed),
                      "pass_rate": round(sum(passed) / n, 4) if n else None,
                      "mean_share": round(sum(t["score"] / t["max"] for _, t in got if t["max"]) / n, 4) if n else None,
                      "discrimination": _corr([float(p) for p in passed], rest),
                      "failures": [{"message": m, "count": c} for m, c in fails.most_common(top)]})
    scores = [r.get("score") or 0 for r in graded]
    max_score = max((r.get("max_score") or 0 for r in graded), default=0)
    return {"students": len(graded), "max_score": max_score, "scores": sorted(scores),
            "mean": round(sum(scores) / len(scores), 3) if scores else None,
            "median": _median(scores), "items": items,
            "histogram": _histogram(scores, max_score)}


def _corr(xs: list[float], ys: list[float]) -> float | None:
    n = len(xs)
    if n < 3:
        return None
    mx, my = sum(xs) / n, sum(ys) / n
    sxy = sum((x - mx) * (y - my) for x, y in zip(xs, ys))
    sxx = sum((x - mx) ** 2 for x in xs)
    syy = sum((y - my) ** 2 for y in ys)
    if sxx <= 0 or syy <= 0:
        return None
    return round(sxy / (sxx * syy) ** 0.5, 3)


def _median(xs):
    if not xs:
        return None
    s = sorted(xs)
    m = len(s) // 2
    return s[m] if len(s) % 2 else (s[m - 1] + s[m]) / 2


def _histogram(scores, max_score) -> list[dict]:
    """Counts per whole point, 0 … max (a score between two points counts at the lower one)."""
    top = int(max_score) if max_score else int(max(scores, default=0))
    counts = Counter(min(top, max(0, int(s))) for s in scores)
    return [{"score": k, "count": counts.get(k, 0)} for k in range(top + 1)]


# --------------------------------------------------------------------------- similarity
def normalize_code(source: str) -> str:
    """Code with comments and layout dropped and every identifier renamed in order of first use."""
    names: dict[str, str] = {}
    out = []
    try:
        for tok in tokenize.generate_tokens(io.StringIO(_ipython_free(source)).readline):
            if tok.type in (tokenize.COMMENT, tokenize.NL, tokenize.ENCODING, tokenize.ENDMARKER):
                continue
            if tok.type == tokenize.NEWLINE:
                out.append(";")
            elif tok.type == tokenize.INDENT:
                out.append("{")
            elif tok.type == tokenize.DEDENT:
                out.append("}")
            elif tok.type == tokenize.NAME and not keyword.iskeyword(tok.string):
                out.append(names.setdefault(tok.string, f"v{len(names)}"))
            else:
                out.append(tok.string)
    except (tokenize.TokenError, IndentationError, SyntaxError):
        return " ".join(re.sub(r"#[^\n]*", "", source).split())
    return " ".join(out)


def exact_code(source: str) -> str:
    """Code as written, bar trailing spaces and blank lines."""
    return "\n".join(ln.rstrip() for ln in source.strip().splitlines() if ln.strip())


def _answers(nb) -> dict[str, str]:
    out: dict[str, list[str]] = {}
    for cell in nb.cells:
        m = _nbg(cell)
        if m.get("solution") and m.get("grade_id"):
            src = "\n".join(ln for ln in cell.get("source", "").splitlines()
                            if "### BEGIN SOLUTION" not in ln and "### END SOLUTION" not in ln)
            out.setdefault(m["grade_id"], []).append(src)
    return {k: "\n".join(v) for k, v in out.items()}


def similarity(answers: dict[str, dict[str, str]], stub: dict[str, str], reference: dict[str, str] | None = None,
               min_tokens: int = 12) -> dict:
    """Groups of students whose answer cells are the same.

    ``answers`` maps each student to {answer grade id: source}; ``stub`` is the released notebook's,
    ``reference`` the instructor's solution. Whole submissions: students whose every answer cell is
    identical (``exact``) or identical after normalising names and whitespace (``normalised``);
    answers equal to the reference solution are listed apart, as one group. Single cells: a
    non-trivial answer (``min_tokens``) that is neither the stub nor the reference, shared."""
    ids = sorted({g for a in answers.values() for g in a} | set(stub))
    norm = {s: tuple(normalize_code(a.get(g, "")) for g in ids) for s, a in answers.items()}
    exact = {s: tuple(exact_code(a.get(g, "")) for g in ids) for s, a in answers.items()}
    stub_key = tuple(normalize_code(stub.get(g, "")) for g in ids)
    ref_key = tuple(normalize_code(reference.get(g, "")) for g in ids) if reference else None
    groups: dict[tuple, list[str]] = {}
    for s in sorted(answers):
        if norm[s] != stub_key:
            groups.setdefault(norm[s], []).append(s)
    whole, pairs, reference_matches = [], [], []
    for key, members in groups.items():
        if key == ref_key:
            reference_matches = members
            continue
        if len(members) < 2:
            continue
        subgroups: dict[tuple, list[str]] = {}
        for s in members:
            subgroups.setdefault(exact[s], []).append(s)
        base = ref_key or stub_key  # what is distinctive: where they differ from the reference (else the release)
        whole.append({"students": members, "exact": [g for g in subgroups.values() if len(g) > 1],
                      "cells": [g for i, g in enumerate(ids) if key[i] != base[i]],
                      "versus": "reference" if ref_key else "release"})
        for i, a in enumerate(members):
            for b in members[i + 1:]:
                pairs.append({"students": [a, b], "kind": "identical" if exact[a] == exact[b] else "normalised"})
    in_whole = {tuple(w["students"]) for w in whole}
    cells = []
    for i, g in enumerate(ids):
        by: dict[str, list[str]] = {}
        for s in sorted(answers):
            k = norm[s][i]
            if k != stub_key[i] and (ref_key is None or k != ref_key[i]) and len(k.split()) >= min_tokens:
                by.setdefault(k, []).append(s)
        for members in by.values():
            if len(members) > 1 and tuple(members) not in in_whole:
                cells.append({"cell": g, "students": members,
                              "kind": "identical" if len({exact[s][i] for s in members}) == 1 else "normalised"})
    whole.sort(key=lambda w: (-len(w["students"]), w["students"]))
    return {"groups": whole, "pairs": pairs, "cells": cells, "reference": reference_matches}


# --------------------------------------------------------------------------- the report's second half
def analysis(course: Path, stem: str, rows: list[dict]) -> dict:
    """Item analysis and similarity of one assignment, written into ``course/reports/``:
    ``<stem>-analysis.json``, a chart ``<stem>-analysis.png`` and a page ``<stem>-analysis.html``."""
    from . import notebooks

    course = Path(course)
    data = {"assignment": stem, **item_analysis(rows)}
    answers = {}
    for r in rows:
        auto = course / "autograded" / r["student"] / stem / f"{stem}.ipynb"
        if r.get("status") == "graded" and auto.is_file():
            answers[r["student"]] = _answers(notebooks.read(auto))
    rel = course / "release" / stem / f"{stem}.ipynb"
    src = course / "source" / stem / f"{stem}.ipynb"
    stub = _answers(notebooks.read(rel)) if rel.is_file() else {}
    reference = _answers(notebooks.read(src)) if src.is_file() else None
    data["similarity"] = similarity(answers, stub, reference)
    out = course / "reports"
    out.mkdir(parents=True, exist_ok=True)
    png = out / f"{stem}-analysis.png"
    data["chart"] = str(png) if _chart(data, png) else None
    page = out / f"{stem}-analysis.html"
    page.write_text(_page(data, png if data["chart"] else None), encoding="utf-8")
    data["page"] = str(page)
    (out / f"{stem}-analysis.json").write_text(json.dumps(data, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    return data


def _korean_font() -> str | None:
    import importlib.util

    from matplotlib import font_manager

    spec = importlib.util.find_spec("koreanize_matplotlib")
    if spec is None or not spec.submodule_search_locations:
        return None
    fonts = sorted((Path(next(iter(spec.submodule_search_locations))) / "fonts").glob("*.ttf"))
    known = {f.fname for f in font_manager.fontManager.ttflist}
    for f in fonts:
        if str(f) not in known:
            font_manager.fontManager.addfont(str(f))
    return font_manager.FontProperties(fname=str(fonts[0])).get_name() if fonts else None


def _chart(data: dict, path: Path) -> bool:
    """Score distribution and per-test pass rates as one PNG; False when matplotlib is missing."""
    try:
        import matplotlib

        matplotlib.use("Agg", force=True)
        import matplotlib.pyplot as plt
    except ImportError:
        return False
    font = _korean_font()
    ko = bool(font)
    with plt.rc_context({"font.family": [font] if font else ["DejaVu Sans"], "axes.unicode_minus": False}):
        fig, (a, b) = plt.subplots(1, 2, figsize=(11, 4.2), dpi=100)
        h = data["histogram"]
        a.bar([x["score"] for x in h], [x["count"] for x in h], color="#4c72b0")
        a.set_xlabel("점수 · score" if ko else "score")
        a.set_ylabel("학생 수 · students" if ko else "students")
        a.set_title((f"점수 분포 · score distribution (n={data['students']})" if ko
                     else f"score distribution (n={data['students']})"), fontsize=11)
        items = data["items"]
        names = [safe_text(i["id"], oneline=True)[:30] for i in items]
        rates = [100 * (i["pass_rate"] or 0) for i in items]
        b.barh(names[::-1], rates[::-1], color="#55a868")
        b.set_xlim(0, 100)
        b.set_xlabel("통과한 학생 % · students passing %" if ko else "students passing (%)")
        b.set_title("테스트 셀별 통과율 · pass rate per test cell" if ko else "pass rate per test cell", fontsize=11)
        for y, r in enumerate(rates[::-1]):
            inside = r > 80
            b.text(r - 1 if inside else r + 1, y, f"{r:.0f}%", va="center", ha="right" if inside else "left",
                   color="white" if inside else "black", fontsize=9)
        a.xaxis.get_major_locator().set_params(integer=True)
        fig.tight_layout()
        fig.savefig(path)
        plt.close(fig)
    return True


def _page(data: dict, png: Path | None) -> str:
    """A static HTML page (no script): the chart, the item table, the similarity groups."""
    import base64

    e = lambda x: html.escape(safe_text(str(x), oneline=True))  # noqa: E731
    pct = lambda x: "–" if x is None else f"{100 * x:.0f}%"  # noqa: E731
    parts = ["<!DOCTYPE html><html><head><meta charset='utf-8'>",
             f"<title>{e(data['assignment'])} — 문항 분석 · item analysis</title>",
             "<style>body{font-family:sans-serif;max-width:1100px;margin:2em auto}table{border-collapse:collapse}"
             "td,th{border:1px solid #ccc;padding:4px 8px;text-align:left;vertical-align:top}</style></head><body>",
             f"<h1>{e(data['assignment'])}: 문항 분석 · item analysis</h1>",
             f"<p>채점된 학생 · graded students: {data['students']} · 평균 · mean: {e(data['mean'])} · "
             f"중앙값 · median: {e(data['median'])} / {e(data['max_score'])}</p>"]
    if png and png.is_file():
        parts.append(f"<img alt='chart' src='data:image/png;base64,{base64.b64encode(png.read_bytes()).decode()}'>")
    parts.append("<h2>테스트 셀 · test cells</h2><table><tr><th>test</th><th>배점 · points</th><th>통과 · passing</th>"
                 "<th>평균 득점률 · mean share</th><th>변별도 · discrimination</th><th>자주 나온 실패 · most frequent failures</th></tr>")
    for i in data["items"]:
        fails = "<br>".join(f"{f['count']}× {e(f['message'])}" for f in i["failures"]) or "–"
        parts.append(f"<tr><td>{e(i['id'])}</td><td>{e(_fmt(i['points']))}</td><td>{i['passed']}/{i['students']} ({pct(i['pass_rate'])})</td>"
                     f"<td>{pct(i['mean_share'])}</td><td>{e('–' if i['discrimination'] is None else i['discrimination'])}</td><td>{fails}</td></tr>")
    parts.append("</table>")
    parts.append("<h2>비슷한 제출물 · similar submissions</h2><p>검토용 표시일 뿐 감점이 아닙니다 · flags for review, never penalties.</p><ul>")
    parts += [f"<li>{e(line)}</li>" for line in similarity_lines(data["similarity"], "en")]
    parts.append("</ul></body></html>\n")
    return "".join(parts)


def similarity_lines(sim: dict, lang: str = "en") -> list[str]:
    ko = lang == "ko"
    lines = []
    for g in sim["groups"]:
        exact = "; ".join(" = ".join(x) for x in g["exact"])
        cells = ", ".join(g["cells"])
        if ko:
            versus = "모범 답안" if g.get("versus") == "reference" else "배포본"
            lines.append(f"{', '.join(g['students'])}: 모든 답 셀이 이름·공백 정규화 후 같습니다({versus}과 다른 셀: {cells})"
                         + (f"; 글자 그대로 같음: {exact}" if exact else ""))
        else:
            versus = "the reference solution" if g.get("versus") == "reference" else "the release"
            lines.append(f"{', '.join(g['students'])}: every answer cell the same after normalising names and whitespace "
                         f"(cells unlike {versus}: {cells})" + (f"; identical as written: {exact}" if exact else ""))
    for c in sim["cells"]:
        how = ("글자 그대로 같음" if c["kind"] == "identical" else "이름·공백 정규화 후 같음") if ko else \
            ("identical" if c["kind"] == "identical" else "identical after normalising names and whitespace")
        lines.append(f"{', '.join(c['students'])}: {'답 셀' if ko else 'answer cell'} {c['cell']} {how}")
    if sim["reference"]:
        lines.append((f"모범 답안과 같은 제출물 {len(sim['reference'])}개: " if ko else
                      f"{len(sim['reference'])} submission(s) the same as the reference solution: ") + ", ".join(sim["reference"]))
    return lines or ["없음" if ko else "none"]


def format_analysis(data: dict, lang: str = "en") -> str:
    ko = lang == "ko"
    pct = lambda x: "–" if x is None else f"{100 * x:.0f}%"  # noqa: E731
    lines = ["", (f"문항 분석 (채점된 학생 {data['students']}명, 평균 {data['mean']}, 중앙값 {data['median']} / {data['max_score']:g})"
                  if ko else f"Item analysis ({data['students']} graded, mean {data['mean']}, median {data['median']} "
                             f"/ {data['max_score']:g})")]
    w = max([len(i["id"]) for i in data["items"]] + [10])
    head = ("테스트", "배점", "통과", "변별도", "자주 나온 실패") if ko else ("test", "points", "passing", "discr.", "most frequent failures")
    lines.append(f"  {head[0]:<{w}}  {head[1]:>6}  {head[2]:>12}  {head[3]:>6}  {head[4]}")
    for i in data["items"]:
        fails = " | ".join(f"{f['count']}× {f['message'][:70]}" for f in i["failures"]) or "–"
        d = "–" if i["discrimination"] is None else f"{i['discrimination']:+.2f}"
        lines.append(f"  {i['id']:<{w}}  {_fmt(i['points']):>6}  {i['passed']:>4}/{i['students']:<3} {pct(i['pass_rate']):>4}  {d:>6}  {fails}")
    if data.get("chart"):
        lines.append(("  그래프: " if ko else "  chart: ") + data["chart"] + (" · " + data["page"] if data.get("page") else ""))
    lines += ["", "비슷한 제출물 (검토용, 감점 아님)" if ko else "Similar submissions (flags for review, never penalties)"]
    lines += [f"  {x}" for x in similarity_lines(data["similarity"], lang)]
    return safe_text("\n".join(lines))
