"""Tests of the plain functions behind the notebooks' widgets (helpers/widgets.py).

One section per notebook; add yours below the others.
"""
import numpy as np
import pytest

from helpers import widgets


# ---------------------------------------------------------------- 01_tensors: shape playground

@pytest.mark.parametrize("shape_a, shape_b", [
    ((2, 1, 4), (3, 1)), ((5,), (5,)), ((4, 3), (3,)), ((1,), (2, 3)), ((), (2, 2)),
    ((2, 3), (3, 2)), ((4, 1), (1, 5, 3)), ((8, 1, 6, 1), (7, 1, 5)), ((3,), (4,)),
])
def test_broadcast_result_agrees_with_numpy(shape_a, shape_b):
    result, lines = widgets.broadcast_result(shape_a, shape_b)
    try:
        expected = np.broadcast_shapes(shape_a, shape_b)
    except ValueError:
        expected = None
    assert result == expected
    if expected is None:
        assert "clash" in lines[-1]


def test_parse_shape_reads_common_spellings_and_explains_bad_ones():
    assert widgets.parse_shape("2, 3, 4") == (2, 3, 4)
    assert widgets.parse_shape("(2,3)") == (2, 3)
    assert widgets.parse_shape("[5]") == (5,)
    assert widgets.parse_shape("") == ()
    with pytest.raises(ValueError, match="separated by commas"):
        widgets.parse_shape("two, three")


def test_shape_playground_text_names_the_result_or_the_clash():
    assert "broadcast to (2, 3, 4)" in widgets.shape_playground_text("2, 1, 4", "3, 1")
    text = widgets.shape_playground_text("2, 3", "4")
    assert "cannot broadcast" in text and "3 and 4 clash" in text
    assert widgets.shape_playground_text("x", "3").startswith("Input problem")


def test_shape_playground_builds_a_widget():
    widget = widgets.shape_playground()
    assert widget.children[0].value == "2, 1, 4"


# ---------------------------------------------------------------- 05_backprop: learning-rate stepper

@pytest.mark.parametrize("learning_rate, word", [
    (0.1, "converging"), (0.5, "one step"), (0.8, "oscillating, but converging"),
    (1.0, "oscillating forever"), (1.2, "diverging"), (0.0, "not moving"),
])
def test_descent_regime_matches_the_path(learning_rate, word):
    assert word in widgets.descent_regime(learning_rate)
    path = widgets.descent_path(learning_rate, start=1.5, steps=40)
    assert path.shape == (41,) and path[0] == 1.5
    sizes = np.abs(path)
    if "diverging" in word:
        assert np.all(np.diff(sizes) > 0)
    elif "forever" in word:
        assert np.allclose(sizes, 1.5)
    elif learning_rate > 0:
        assert sizes[-1] < 1e-2 * sizes[0]
    signs = np.sign(path[:3])
    assert (signs[1] < 0) == ("oscillating" in word or "diverging" in word)


def test_descent_path_follows_the_slope_2w():
    path = widgets.descent_path(0.1, start=2.0, steps=1)
    assert np.allclose(path, [2.0, 2.0 - 0.1 * 4.0])


def test_learning_rate_stepper_builds():
    pytest.importorskip("ipywidgets")
    assert widgets.learning_rate_stepper() is not None


# ---------------------------------------------------------------- 06_why_transformers: recurrent scale

def test_gradients_through_time_vanish_and_explode_with_the_scale():
    small = widgets.gradients_through_time(0.5, length=30)
    large = widgets.gradients_through_time(2.0, length=30)
    assert small["rnn"].shape == (30,) and small["attention"].shape == (30,)
    assert small["rnn"][0] < 1e-6 * small["rnn"][-1]           # the oldest input is all but forgotten
    assert large["rnn"][0] > 10 * large["rnn"][-1]             # the oldest input's gradient blew up
    spread = small["attention"].max() / small["attention"].min()
    assert spread < 100                                         # attention: one step from every input


def test_recurrent_scale_explorer_builds():
    pytest.importorskip("ipywidgets")
    assert widgets.recurrent_scale_explorer(length=10) is not None
