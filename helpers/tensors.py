"""Shapes and broadcasting, the arithmetic of notebook 01_tensors.

Broadcasting lines two shapes up from the right; each pair of sizes must be equal, or one of them 1.
These plain functions explain the rule size by size; notebook 01's shape playground
(helpers.widgets.shape_playground) shows their answer for shapes a learner types.
"""
import numpy as np


def broadcast_result(shape_a, shape_b):
    """What broadcasting two shapes gives, explained: (result_shape or None, explanation lines).

    Rule: line the shapes up from the right; each pair of sizes must be equal, or one of them 1
    (a missing size counts as 1). The result takes the size that is not 1 (a 1 stretches to
    match the other, even to 0). Built in notebook 01_tensors.
    """
    if isinstance(shape_a, str) or isinstance(shape_b, str):
        raise TypeError("give shapes as tuples of sizes, like (2, 1, 4) or x.shape; for typed text use parse_shape")
    shape_a, shape_b = tuple(shape_a), tuple(shape_b)
    if not all(isinstance(size, (int, np.integer)) and size >= 0 for size in shape_a + shape_b):
        raise TypeError(f"shapes hold whole sizes of 0 or more, like (2, 1, 4); got {shape_a} and {shape_b}")
    width = max(len(shape_a), len(shape_b))
    padded_a = (1,) * (width - len(shape_a)) + shape_a
    padded_b = (1,) * (width - len(shape_b)) + shape_b
    result, lines = [], []
    for axis, (size_a, size_b) in enumerate(zip(padded_a, padded_b)):
        if size_a == size_b or 1 in (size_a, size_b):
            size = size_b if size_a == 1 else size_a
            result.append(size)
            lines.append(f"axis {axis}: {size_a} and {size_b} -> {size}")
        else:
            lines.append(f"axis {axis}: {size_a} and {size_b} clash (neither is 1, and they differ)")
            return None, lines
    return tuple(result), lines


def parse_shape(text):
    """'2, 3, 4' or '(2,3,4)' -> (2, 3, 4); a clear ValueError for anything else."""
    cleaned = text.strip().strip("()[]").strip()
    if cleaned == "":
        return ()
    if any(len(part.split()) > 1 for part in cleaned.split(",")):      # "2 3 4" or "2, 3 4"
        raise ValueError(f"could not read a shape from {text!r}: separate the sizes with commas, like "
                         f"{', '.join(cleaned.replace(',', ' ').split())}")
    cleaned = cleaned.replace(" ", "")
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
