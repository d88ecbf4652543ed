import pytest
import torch

from dlbook.check import ExerciseFailure, call, expect, expect_close, expect_tensor


def test_messages_are_bilingual():
    with pytest.raises(ExerciseFailure, match=r"(?s)\[한국어\] 틀림.*\[English\] wrong"):
        expect(False, "틀림", "wrong")
    expect(True, "", "")


def test_call_explains_unimplemented_and_crashes():
    def todo(x):
        raise NotImplementedError()

    def crash(x):
        return x / "a"

    with pytest.raises(ExerciseFailure, match="not implemented yet"):
        call(todo, 1)
    with pytest.raises(ExerciseFailure, match="crash raised TypeError"):
        call(crash, 1)
    with pytest.raises(ExerciseFailure, match="must be a function; got int"):
        call(3, name="answer")
    assert call(lambda x: x + 1, 1) == 2


def test_expect_close_reports_shape_type_and_first_wrong_value():
    expect_close(torch.tensor([1.0, 2.0]), [1.0, 2.0], "y")
    with pytest.raises(ExerciseFailure, match="y must be a torch.Tensor; got list"):
        expect_close([1.0, 2.0], [1.0, 2.0], "y")
    with pytest.raises(ExerciseFailure, match=r"shape \(2,\); got \(3,\)"):
        expect_close(torch.zeros(3), [1.0, 2.0], "y")
    with pytest.raises(ExerciseFailure, match=r"y\[1\] should be 2 but is 5 \(1 of 2 elements wrong\)"):
        expect_close(torch.tensor([1.0, 5.0]), [1.0, 2.0], "y")
    with pytest.raises(ExerciseFailure, match="should be 1 but is nan"):
        expect_close(torch.tensor(float("nan")), 1.0, "s")
    expect_tensor(torch.zeros(2, 3), "x", (2, 3))


def test_expect_choice_checks_the_form_only():
    from dlbook.check import expect_choice
    expect_choice("b", "Q1", ["a", "b", "c"])
    with pytest.raises(ExerciseFailure, match="not answered yet") as err:
        expect_choice(None, "Q1", ["a", "b"])
    assert "아직 답하지 않았습니다" in err.value.ko
    with pytest.raises(ExerciseFailure, match="one of 'a', 'b'; got 'e'"):
        expect_choice("e", "Q1", ["a", "b"])
    with pytest.raises(ExerciseFailure):  # True == 1, but a bool is not the choice 1
        expect_choice(True, "Q2", [1, 2])


def test_expect_number_wants_a_finite_real_not_a_bool():
    from dlbook.check import expect_number
    expect_number(3, "Q")
    expect_number(0.25, "Q")
    for bad in (True, "3", float("nan"), float("inf"), [1], torch.tensor(1.0)):
        with pytest.raises(ExerciseFailure, match="finite real number"):
            expect_number(bad, "Q")
    with pytest.raises(ExerciseFailure, match="not answered yet"):
        expect_number(None, "Q")


def test_expect_answer_explains_without_giving_the_value():
    from dlbook.check import expect_answer
    expect_answer("c", "Q1", "c", why_ko="이유", why_en="because")
    expect_answer(0.251, "Q2", 0.25, why_ko="이유", why_en="because", tol=0.01)
    with pytest.raises(ExerciseFailure) as err:
        expect_answer("a", "Q1", "c", why_ko="출력층은 선형입니다.", why_en="the output layer is linear.")
    assert err.value.en == "Q1 is not right. the output layer is linear." and "'c'" not in str(err.value)
    assert err.value.ko.endswith("출력층은 선형입니다.")
    with pytest.raises(ExerciseFailure):
        expect_answer(0.3, "Q2", 0.25, why_ko="이유", why_en="because", tol=0.01)
    with pytest.raises(ExerciseFailure):
        expect_answer(True, "Q3", 1, why_ko="이유", why_en="because")
    with pytest.raises(ExerciseFailure):
        expect_answer("1", "Q2", 1.0, why_ko="이유", why_en="because", tol=0.5)
    with pytest.raises(ExerciseFailure, match="not answered yet"):
        expect_answer(None, "Q1", "c", why_ko="이유", why_en="because")


def test_messages_fit_nbgrader_validate_lines():
    from dlbook.check import WIDTH, _columns, wrap

    long_ko = "배치 정규화는 시험 모드에서 훈련 중에 모은 이동 평균과 이동 분산으로 정규화합니다. " * 3
    err = ExerciseFailure(long_ko, "batch normalisation normalises with the running statistics at test time. " * 3)
    lines = str(err).split("\n")[1:]
    assert lines[0].startswith("[한국어] ") and any(line.startswith("[English] ") for line in lines)
    assert all(_columns(line) <= WIDTH and len(line) <= 86 for line in lines), lines
    assert wrap("a b", width=3) == "a b" and wrap("aaaa bbbb", width=6) == "aaaa\n    bbbb"


def test_a_student_sees_the_cells_lines_and_both_languages_not_the_checkers_frames():
    import nbformat
    from nbclient import NotebookClient

    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(s) for s in [
        "from dlbook.check import call, expect_close\nimport torch",
        "NAND_W",  # a test cell run before its answer cell, or an answer left unassigned
        "expect_close(torch.tensor([1.0, 2.0]), [1.0, 3.0], 'nand(x)')",
        "def f(x):\n    return x.nope\ncall(f, 1)",
    ]]
    NotebookClient(nb, timeout=120, allow_errors=True).execute()
    errors = [[o for o in c.outputs if o.output_type == "error"] for c in nb.cells[1:]]
    assert [len(e) for e in errors] == [1, 1, 1], "each stays an error, so a grader records the failure"
    name, check, crash = ("\n".join(e[0].traceback) for e in errors)
    assert errors[0][0].ename == "NameError" and "NAND_W이(가) 정의되지 않았습니다" in name
    assert "[English] NAND_W is not defined: run the cell that defines it first" in name
    assert "line 1: expect_close(" in check and "[English] nand(x)[1] should be 3 but is 2" in check
    assert "line 2: return x.nope" in crash and "AttributeError" in crash
    for text in (name, check, crash):
        assert "check.py" not in text and "site-packages" not in text and len(text.splitlines()) <= 12


def test_a_label_with_words_is_given_in_both_languages():
    with pytest.raises(ExerciseFailure, match=r"(?s)\[한국어\] 3번째 걸음 뒤의 x의 값이 2이어야.*\[English\] x after step 3 should be 2"):
        expect_close(torch.tensor(1.0), 2.0, ("3번째 걸음 뒤의 x", "x after step 3"))
    with pytest.raises(TypeError, match=r"name must be a str or a \(korean, english\) pair"):
        expect_tensor(torch.zeros(1), ("하나",))


def test_the_failing_line_is_quoted_whole_so_the_course_kit_can_hide_a_hidden_test():
    from dlbook_tools import grading

    hidden = "expect_close(call(batchnorm_eval, torch.tensor([[3.0, 1.0]]), mean, var, gamma, beta, 0.0), [[1.0, 0.0]], 'hidden check')"
    import linecache

    source = (f"from dlbook.check import call, expect_close\nimport torch\nmean = var = gamma = beta = 0\n"
              f"def batchnorm_eval(*a):\n    return torch.zeros(1, 2)\n{hidden}\n")
    name = "<ipython-input-7-abc>"  # a cell, as IPython names it and caches its source
    linecache.cache[name] = (len(source), None, source.splitlines(True), name)
    code = compile(source, name, "exec")
    with pytest.raises(ExerciseFailure) as info:
        exec(code, {})
    shown = "\n".join(info.value._render_traceback_())
    assert hidden in shown  # whole, not cut at the screen's width
    scrubbed = grading.scrub_text(shown, grading.secret_lines([f"### BEGIN HIDDEN TESTS\n{hidden}\n### END HIDDEN TESTS"]))
    assert "batchnorm_eval" not in scrubbed and grading.HIDDEN in scrubbed and "[English]" in scrubbed
