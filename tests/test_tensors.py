"""Tests of helpers/tensors.py: broadcasting explained, checked against NumPy (notebook 01)."""
import numpy as np
import pytest

from helpers import tensors


# ---------------------------------------------------------------- broadcasting and the shape playground

@pytest.mark.parametrize("shape_a, shape_b", [
    ((2, 1, 4), (3, 1)), ((5,), (5,)), ((4, 3), (3,)), ((1,), (2, 3)), ((), (2, 2)),
    ((2, 3), (3, 2)), ((4, 1), (1, 5, 3)), ((8, 1, 6, 1), (7, 1, 5)), ((3,), (4,)),
    ((0,), (1,)), ((2, 0), (1,)), ((1, 0), (3, 1)), ((0,), (2,)),      # a 1 stretches even to 0
])
def test_broadcast_result_agrees_with_numpy(shape_a, shape_b):
    result, lines = tensors.broadcast_result(shape_a, shape_b)
    try:
        expected = np.broadcast_shapes(shape_a, shape_b)
    except ValueError:
        expected = None
    assert result == expected
    if expected is None:
        assert "clash" in lines[-1]


def test_parse_shape_reads_common_spellings_and_explains_bad_ones():
    assert tensors.parse_shape("2, 3, 4") == (2, 3, 4)
    assert tensors.parse_shape("(2,3)") == (2, 3)
    assert tensors.parse_shape("[5]") == (5,)
    assert tensors.parse_shape("") == ()
    with pytest.raises(ValueError, match="separated by commas"):
        tensors.parse_shape("two, three")
    with pytest.raises(ValueError, match="separate the sizes with commas, like 2, 3, 4"):
        tensors.parse_shape("2 3 4")                 # not silently (234,)
    with pytest.raises(ValueError, match="like 2, 3, 4"):
        tensors.parse_shape("2, 3 4")                # not silently (2, 34)
    with pytest.raises(TypeError, match="tuples of sizes"):
        tensors.broadcast_result("2, 1, 4", (3, 1))


def test_shape_playground_text_names_the_result_or_the_clash():
    assert "broadcast to (2, 3, 4)" in tensors.shape_playground_text("2, 1, 4", "3, 1")
    text = tensors.shape_playground_text("2, 3", "4")
    assert "cannot broadcast" in text and "3 and 4 clash" in text
    assert tensors.shape_playground_text("x", "3").startswith("Input problem")
