"""Checks used by the exercises' test cells: every failure explains itself in Korean and English.

Not taught in a chapter: the test cells of every chapter's exercises use it to explain a failure;
used in chapters 01–18.

A student's function may raise, return the wrong type or the wrong shape; each case
becomes an ``AssertionError`` whose message says what was expected and what came
back, so the visible tests teach and the autograder records a clean failure.
"""
from __future__ import annotations

import traceback
import unicodedata

import torch

# nbgrader's Validate cuts every line at 87 characters; on screen a Hangul syllable takes two columns.
WIDTH = 80


def _columns(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def wrap(text: str, width: int = WIDTH, indent: str = "    ") -> str:
    """Break ``text`` at spaces into lines of at most ``width`` screen columns (Hangul counts two)."""
    lines = []
    for paragraph in text.split("\n"):
        line = ""
        for word in paragraph.split(" "):
            longer = f"{line} {word}" if line.strip() else line + word
            if line.strip() and _columns(longer) > width:
                lines.append(line)
                line = indent + word
            else:
                line = longer
        lines.append(line)
    return "\n".join(lines)


def _in_a_cell(filename: str) -> bool:
    """Is this a notebook cell's code (ipykernel's temporary file, or IPython's <ipython-input-…>)?"""
    return filename.startswith("<ipython-input") or "/ipykernel_" in filename or filename.startswith("<cell")


def _cell_lines(tb) -> list[str]:
    """The notebook lines a traceback passes through; the library's frames are left out."""
    shown = []
    for frame in traceback.extract_tb(tb):
        if _in_a_cell(frame.filename):
            # the whole line, never cut: the course kit hides a feedback line that quotes a hidden test's line
            shown.append(f"  {frame.lineno}행 · line {frame.lineno}: {(frame.line or '').strip()}")
    return shown


class ExerciseFailure(AssertionError):
    """A failed exercise check, with the message in both languages (each line fits nbgrader's Validate)."""

    def __init__(self, ko: str, en: str):
        self.ko, self.en = ko, en
        super().__init__(f"\n{wrap('[한국어] ' + ko)}\n{wrap('[English] ' + en)}")

    def _render_traceback_(self) -> list[str]:
        """What IPython shows: the test cell's line and the message, not the checking code's own frames
        (a crash in the student's code adds the student's lines)."""
        lines = ["ExerciseFailure · 확인 실패 · check failed"] + _cell_lines(self.__traceback__)
        if self.__cause__ is not None:
            yours = _cell_lines(self.__cause__.__traceback__)
            if yours:
                lines += ["  여러분의 코드 · in your code:"] + yours
        return lines + str(self).split("\n")[1:]


def _name_error_lines(error: NameError, tb) -> list[str]:
    name = getattr(error, "name", None) or str(error).split("'")[1 if "'" in str(error) else 0]
    ko = (f"{name}이(가) 정의되지 않았습니다. {name}을(를) 만드는 셀을 먼저 실행하세요(다시 연결했거나 커널을 "
          f"재시작했다면 맨 위부터). 답으로 채울 이름이라면 답 셀에서 `{name} = ...`처럼 값을 대입하세요.")
    en = (f"{name} is not defined: run the cell that defines it first (from the top, after a reconnect or a "
          f"kernel restart). If it is an answer to fill in, assign it in the answer cell: `{name} = ...`.")
    return [f"NameError: {error}"] + _cell_lines(tb) + [wrap("[한국어] " + ko), wrap("[English] " + en)]


def _explain_missing_names() -> None:
    """In IPython, a ``NameError`` (a test cell run before its answer cell, an answer left unassigned)
    is shown with a bilingual hint; it stays an error, so a grader still records the failure."""
    try:
        from IPython import get_ipython
    except ImportError:
        return
    shell = get_ipython()
    if shell is None or shell.custom_exceptions not in ((), (NameError,)):
        return  # someone else's handler: leave it

    def handler(self, etype, value, tb, tb_offset=None):
        stb = _name_error_lines(value, tb)
        self._showtraceback(etype, value, stb)  # IPython does not show what a custom handler returns
        return stb

    shell.set_custom_exc((NameError,), handler)


_explain_missing_names()


def expect(condition: bool, ko: str, en: str) -> None:
    """Fail with the bilingual message unless ``condition`` holds."""
    if not condition:
        raise ExerciseFailure(ko, en)


def call(fn, *args, name: str | None = None, **kwargs):
    """Call a student's function; turn 'not implemented yet' and crashes into clear failures."""
    name = name or getattr(fn, "__name__", "function")
    if not callable(fn):
        raise ExerciseFailure(f"{name}은(는) 함수여야 합니다. 받은 값: {type(fn).__name__}",
                              f"{name} must be a function; got {type(fn).__name__}")
    try:
        return fn(*args, **kwargs)
    except NotImplementedError:
        raise ExerciseFailure(f"{name}을(를) 아직 구현하지 않았습니다. `raise NotImplementedError()`를 지우고 코드를 작성하세요.",
                              f"{name} is not implemented yet: replace `raise NotImplementedError()` with your code.") from None
    except ExerciseFailure:
        raise
    except Exception as err:  # any crash in student code is a failed check, not a grading error
        raise ExerciseFailure(f"{name} 실행 중 오류가 났습니다: {type(err).__name__}: {err}",
                              f"{name} raised {type(err).__name__}: {err}") from err


def _names(name) -> tuple[str, str]:
    """A checked value's label in (Korean, English): one string (code, the same in both) or a pair."""
    if isinstance(name, tuple) and len(name) == 2 and all(isinstance(n, str) for n in name):
        return name
    if isinstance(name, str):
        return name, name
    raise TypeError(f"name must be a str or a (korean, english) pair of str, got {name!r}")


def expect_tensor(value, name, shape=None) -> torch.Tensor:
    """``value`` must be a tensor (of ``shape``, if given). ``name``: its label, a str (code, such as
    ``"relu(x)"``) or a ``(korean, english)`` pair when the label has words."""
    ko, en = _names(name)
    expect(isinstance(value, torch.Tensor),
           f"{ko}은(는) torch.Tensor여야 합니다. 받은 값의 종류: {type(value).__name__}",
           f"{en} must be a torch.Tensor; got {type(value).__name__}")
    if shape is not None:
        expect(tuple(value.shape) == tuple(shape),
               f"{ko}의 형상(shape)이 {tuple(shape)}이어야 하는데 {tuple(value.shape)}입니다.",
               f"{en} must have shape {tuple(shape)}; got {tuple(value.shape)}")
    return value


def expect_close(actual, expected, name, *, atol: float = 1e-6, rtol: float = 1e-5) -> None:
    """``actual`` must be a tensor of ``expected``'s shape with values close to it (``name`` as in
    :func:`expect_tensor`)."""
    ko, en = _names(name)
    expected = torch.as_tensor(expected)
    actual = expect_tensor(actual, name, expected.shape)
    a = actual.detach().to("cpu", torch.float64)
    e = expected.detach().to("cpu", torch.float64)
    close = torch.isclose(a, e, atol=atol, rtol=rtol, equal_nan=False)
    if not bool(close.all()):
        idx = tuple(int(i) for i in (~close).nonzero()[0]) if a.ndim else ()
        where = f"[{', '.join(map(str, idx))}]" if idx else ""
        raise ExerciseFailure(
            f"{ko}{where}의 값이 {e[idx].item():.6g}이어야 하는데 {a[idx].item():.6g}입니다 "
            f"(틀린 원소 {int((~close).sum())}/{close.numel()}개).",
            f"{en}{where} should be {e[idx].item():.6g} but is {a[idx].item():.6g} "
            f"({int((~close).sum())} of {close.numel()} elements wrong).",
        )


# --- conceptual items: an answer cell assigns a plain Python value (``Q1 = None``) -----------------

def _not_answered(name: str) -> ExerciseFailure:
    return ExerciseFailure(f"{name}에 아직 답하지 않았습니다. `{name} = None`의 None을 답으로 바꾸세요.",
                           f"{name} is not answered yet: replace None in `{name} = None` with your answer.")


def expect_choice(answer, name: str, choices) -> None:
    """Visible form check: ``answer`` must be one of ``choices``; reveals nothing about which is right."""
    choices = list(choices)
    if answer is None:
        raise _not_answered(name)
    listed = ", ".join(repr(c) for c in choices)
    ok = any(type(answer) is type(c) and answer == c for c in choices)
    expect(ok,
           f"{name}은(는) 다음 중 하나여야 합니다: {listed}. 받은 값: {answer!r}",
           f"{name} must be one of {listed}; got {answer!r}")


def _is_real_number(value) -> bool:
    import math
    import numbers
    return (isinstance(value, numbers.Real) and not isinstance(value, bool)
            and math.isfinite(float(value)))


def expect_number(answer, name: str) -> None:
    """Visible form check: ``answer`` must be a finite real number (int or float, not bool)."""
    if answer is None:
        raise _not_answered(name)
    expect(_is_real_number(answer),
           f"{name}은(는) 유한한 실수(int 또는 float)여야 합니다. 받은 값: {answer!r} ({type(answer).__name__})",
           f"{name} must be a finite real number (int or float); got {answer!r} ({type(answer).__name__})")


def expect_answer(answer, name: str, correct, *, why_ko: str, why_en: str, tol: float | None = None) -> None:
    """Hidden correctness check: ``answer == correct`` (within ``tol`` for numbers), else explain why.

    The message gives the reasoning (``why_ko``/``why_en``), not the correct value, unless the
    explanation itself states it.
    """
    if answer is None:
        raise _not_answered(name)
    if tol is not None:
        ok = _is_real_number(answer) and abs(float(answer) - float(correct)) <= tol
    elif isinstance(correct, bool) or isinstance(answer, bool):
        ok = type(answer) is type(correct) and answer == correct
    else:
        ok = answer == correct
    expect(bool(ok), f"{name}의 답이 틀렸습니다. {why_ko}", f"{name} is not right. {why_en}")
