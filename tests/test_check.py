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
