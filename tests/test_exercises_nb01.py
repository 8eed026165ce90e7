"""Exercises of notebook 01_tensors: the predicted shapes are what torch measures; typical wrong
predictions get a message that names each wrong expression."""
import torch

from helpers.exercises import available, check
from helpers.exercises.nb01_tensors import PREDICT_SHAPES


def _run(capsys, exercise_id, answer):
    ok = check(exercise_id, answer)
    return ok, capsys.readouterr().out


def test_the_reference_shapes_are_what_torch_measures():
    x = torch.randn(2, 5, 4)
    for expression, shape in PREDICT_SHAPES:
        try:
            measured = tuple(eval(expression, {"x": x}).shape)
        except RuntimeError:
            measured = None
        assert measured == shape, expression


def test_predictions_as_torch_sizes_or_lists_pass(capsys):
    answer = [torch.Size([2, 5, 5]), [2, 4, 4], (2, 5, 4), (2, 5, 4), None]
    assert _run(capsys, "01.predict_shapes", answer)[0]


def test_typical_wrong_predictions_name_the_expression(capsys):
    # keepdim forgotten in the broadcast, and (5, 4) @ (5, 4) taken for a valid product
    ok, out = _run(capsys, "01.predict_shapes", ((2, 5, 5), (2, 4, 4), (2, 5, 4), (2, 5, 1), (5, 5)))
    assert not ok and "2 of 5 wrong" in out
    assert "x.sum(-1, keepdim=True) + x[0]: expected (2, 5, 4), you said (2, 5, 1)" in out
    assert "x[0] @ x[1]: expected an error (None), you said (5, 5)" in out


def test_unanswered_and_wrong_length(capsys):
    ok, out = _run(capsys, "01.predict_shapes", (...,) * 5)
    assert not ok and "not answered yet" in out
    ok, out = _run(capsys, "01.predict_shapes", ((2, 5, 5),))
    assert not ok and "a tuple of 5 predictions" in out


def test_the_notebook_has_these_exercises():
    assert [i for i in available() if i.startswith("01.")] == sorted(
        ["01.batch_shape", "01.broadcast_shape", "01.rows_sum_to_one", "01.predict_shapes", "01.embed"])
