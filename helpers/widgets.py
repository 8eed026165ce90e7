"""The interactive pieces of the notebooks.

Each widget has two halves: a plain function that computes what it shows (tested in
tests/test_widgets.py, and drawn once as a static figure in the notebook so it reads without a
live kernel), and a small builder that wires that function to ipywidgets controls.
Sections follow the notebooks; each names the notebook that uses it.
"""
import numpy as np


# ====================================================================== 01_tensors: shape playground

def broadcast_result(shape_a, shape_b):
    """What broadcasting two shapes gives, explained: (result_shape or None, explanation lines).

    Rule: line the shapes up from the right; each pair of sizes must be equal, or one of them 1
    (a missing size counts as 1). The result takes the larger size of each pair.
    """
    shape_a, shape_b = tuple(shape_a), tuple(shape_b)
    width = max(len(shape_a), len(shape_b))
    padded_a = (1,) * (width - len(shape_a)) + shape_a
    padded_b = (1,) * (width - len(shape_b)) + shape_b
    result, lines = [], []
    for axis, (size_a, size_b) in enumerate(zip(padded_a, padded_b)):
        if size_a == size_b or 1 in (size_a, size_b):
            result.append(max(size_a, size_b))
            lines.append(f"axis {axis}: {size_a} and {size_b} -> {max(size_a, size_b)}")
        else:
            lines.append(f"axis {axis}: {size_a} and {size_b} clash (neither is 1, and they differ)")
            return None, lines
    return tuple(result), lines


def parse_shape(text):
    """'2, 3, 4' or '(2,3,4)' -> (2, 3, 4); a clear ValueError for anything else."""
    cleaned = text.strip().strip("()[]").replace(" ", "")
    if cleaned == "":
        return ()
    try:
        sizes = tuple(int(part) for part in cleaned.split(",") if part != "")
    except ValueError:
        raise ValueError(f"could not read a shape from {text!r}: write sizes separated by commas, like 2, 3, 4") from None
    if any(size < 0 for size in sizes):
        raise ValueError(f"sizes cannot be negative: {text!r}")
    return sizes


def shape_playground_text(text_a, text_b):
    """The playground's whole answer for two typed shapes, as text (checked against NumPy in tests)."""
    try:
        shape_a, shape_b = parse_shape(text_a), parse_shape(text_b)
    except ValueError as err:
        return f"Input problem: {err}"
    result, lines = broadcast_result(shape_a, shape_b)
    head = f"a {shape_a} with b {shape_b}: "
    head += f"broadcast to {result}" if result is not None else "cannot broadcast"
    return "\n".join([head, "lined up from the right:"] + ["  " + line for line in lines])


def shape_playground():
    """Two text boxes for shapes; shows the broadcast result or explains the clash."""
    import ipywidgets as widgets

    box_a = widgets.Text(value="2, 1, 4", description="shape a")
    box_b = widgets.Text(value="3, 1", description="shape b")
    return widgets.interactive(lambda a, b: print(shape_playground_text(a, b)), a=box_a, b=box_b)


# ====================================================================== 02_embeddings


# ====================================================================== 03_attention


# ====================================================================== 04_softmax_and_scaling


# ====================================================================== 05_backprop


# ====================================================================== 06_why_transformers


# ====================================================================== 08_what_is_it


# ====================================================================== 09_gpt_on_gpu
