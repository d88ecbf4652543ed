"""Does a text speak its edition's language? Used by the tests of the Korean edition's outputs.

The Korean edition's figures, printed labels and code comments are Korean (comments may be
bilingual, ``# 기울기를 0으로 · zero the gradients``, since the editions share their code);
the English edition's outputs hold no Hangul. Names stay as they are in both: identifiers
(anything with ``_``, ``.``, a digit or inside backticks), math between ``$``, units, acronyms in
capitals (``XOR``, ``MSE``) and the proper names in ``NAMES``.
"""
from __future__ import annotations

import io
import re
import tokenize

HANGUL = re.compile(r"[\uac00-\ud7a3\u3131-\u318e]")
WORD = re.compile(r"(?<![\w.`])[A-Za-z]{3,}(?![\w.`(])")
MATH = re.compile(r"\$[^$]*\$|`[^`]*`")
CAMEL = re.compile(r"[A-Z][a-z0-9]*[A-Z]\w*")

# Names, not words: the same in a Korean and an English text. Lower case.
NAMES = frozenset("""
adam adamw adagrad rmsprop sgd nesterov momentum relu elu gelu selu tanh sigmoid softmax softplus swish maxout
prelu lstm gru rnn cnn mlp knn resnet vgg alexnet lenet googlenet inception densenet mnist cifar imagenet pytorch torch
numpy dlbook xavier glorot lecun kaiming batchnorm layernorm dropout nbval nbgrader colab jupyter gpu cpu cuda
true false none nan inf tensor size dtype float int bool grad device shape ndim numel
""".split())


def english_words(text: str) -> list[str]:
    """The words of ``text`` that are English rather than names (math and code spans left out)."""
    text = MATH.sub(" ", text)
    # AND, XOR, MSE (acronyms) and MnistCNN, BatchNorm (CamelCase class names) are names
    return [w for w in WORD.findall(text) if w.lower() not in NAMES and not w.isupper() and not CAMEL.fullmatch(w)]


# A line of PyTorch's printed module, ``  (hidden): Linear(in_features=64, out_features=64, bias=True)``: code.
MODULE_REPR = re.compile(r"\s*\(\w+\): [A-Za-z_][\w.]*\(.*\)\s*")


def speaks(text: str, lang: str) -> bool:
    """Korean: Hangul, or no English word at all (a printed module's lines are code). English: no Hangul."""
    if lang == "en":
        return not HANGUL.search(text)
    return bool(HANGUL.search(text)) or not english_words(text) or bool(MODULE_REPR.fullmatch(text))


def comments(source: str) -> list[str]:
    """The comments of a code cell; a block of whole-line comments is one comment, so that a
    Korean line followed by its English translation reads as one bilingual comment. IPython
    magics and shell lines are skipped."""
    lines = "\n".join("" if ln.lstrip().startswith(("%", "!")) else ln for ln in source.splitlines())
    try:
        tokens = [t for t in tokenize.generate_tokens(io.StringIO(lines).readline) if t.type == tokenize.COMMENT]
    except (tokenize.TokenError, IndentationError, SyntaxError):
        return [ln.split("#", 1)[1].strip() for ln in lines.splitlines() if "#" in ln]
    found, last_row = [], None
    for t in tokens:
        text = t.string.lstrip("#").strip()
        whole_line = not t.line[: t.start[1]].strip()
        if whole_line and last_row == t.start[0] - 1 and found:
            found[-1] += "\n" + text
        else:
            found.append(text)
        last_row = t.start[0] if whole_line else None
    return found


def record_problems(record: dict | None, lang: str) -> list[str]:
    """What is wrong with a figure's record (``dlbook.plot._png``) in edition ``lang``."""
    if record is None:
        return ["not drawn through dlbook.plot's display (no record): call plot.setup() first"]
    found = [] if record.get("language") == lang else [f"drawn with language {record.get('language')!r}"]
    found += [f"label {label!r}" for label in record.get("labels", []) if not speaks(label, lang)]
    # a string with $…$ is drawn by mathtext as a whole, and mathtext has no Hangul: boxes
    return found + [f"label {label!r} mixes Hangul and $…$ math (mathtext draws the Hangul as boxes)"
                    for label in record.get("labels", []) if "$" in label and HANGUL.search(label)]


def png_record(data: bytes) -> dict | None:
    """The record a PNG drawn by ``dlbook.plot`` carries, or None."""
    import json

    from PIL import Image

    raw = Image.open(io.BytesIO(data)).info.get("dlbook")
    return None if raw is None else json.loads(raw)


def executed_figure_problems(nb, lang: str) -> list[str]:
    """The figure problems of an executed notebook (before its unchecked outputs are dropped)."""
    import base64

    found = []
    for cell in nb.cells:
        for out in cell.get("outputs", []) if cell.cell_type == "code" else []:
            png = out.get("data", {}).get("image/png")
            if png:
                found += [f"cell {cell.id}: {p}" for p in record_problems(png_record(base64.b64decode(png)), lang)]
    return found
