"""Exercises of notebook 01_tensors: shapes, broadcasting, predicting the shapes of products, a batch
of sentences."""
import numpy as np
import torch

from helpers.exercises import Exercise, register


def _random_shape(rng, max_dims=4):
    # Sizes 1 to 4, and now and then 0 (an empty axis): a 1 stretches to 0, so "take the larger" fails.
    n_axes = int(rng.integers(0, max_dims + 1))
    return tuple(0 if rng.random() < 0.1 else int(rng.integers(1, 5)) for _ in range(n_axes))


def _shape_pair(rng):
    shape_a = _random_shape(rng)
    if rng.random() < 0.5:  # half the time make b compatible by construction
        shape_b = tuple(1 if rng.random() < 0.4 else s for s in shape_a[int(rng.integers(0, len(shape_a) + 1)):])
    else:
        shape_b = _random_shape(rng)
    return shape_a, shape_b


def _broadcast_shape(shape_a, shape_b):
    try:
        return tuple(np.broadcast_shapes(shape_a, shape_b))
    except ValueError:
        return None


register(Exercise(
    id="01.batch_shape",
    task="the shape of a batch of 32 sentences, 20 words each, each word a vector of 64 numbers",
    reference=(32, 20, 64),
    solution="(32, 20, 64)   # (batch, sequence, dimension)",
))

register(Exercise(
    id="01.broadcast_shape",
    task="write broadcast_shape(shape_a, shape_b): the broadcast shape as a tuple, or None if they clash",
    reference=_broadcast_shape,
    make_inputs=_shape_pair,
    trials=40,
    solution='''def broadcast_shape(shape_a, shape_b):
    width = max(len(shape_a), len(shape_b))
    a = (1,) * (width - len(shape_a)) + tuple(shape_a)   # pad on the left with 1s
    b = (1,) * (width - len(shape_b)) + tuple(shape_b)
    result = []
    for size_a, size_b in zip(a, b):
        if size_a != size_b and 1 not in (size_a, size_b):
            return None
        result.append(size_b if size_a == 1 else size_a)   # the size that is not 1
    return tuple(result)''',
))

register(Exercise(
    id="01.rows_sum_to_one",
    task="write normalise_rows(x): divide each row of a NumPy matrix by that row's sum",
    reference=lambda x: x / x.sum(axis=-1, keepdims=True),
    make_inputs=lambda rng: (rng.uniform(0.1, 1.0, size=(int(rng.integers(2, 6)), int(rng.integers(2, 6)))),),
    solution="def normalise_rows(x):\n    return x / x.sum(axis=-1, keepdims=True)   # (R, C) / (R, 1)",
))

# x = torch.randn(2, 5, 4), a (batch, seq, dim) batch; each expression's shape, or None if it raises.
PREDICT_SHAPES = (
    ("x @ x.transpose(-2, -1)", (2, 5, 5)),
    ("x.transpose(-2, -1) @ x", (2, 4, 4)),
    ("x * x[:, :1]", (2, 5, 4)),
    ("x.sum(-1, keepdim=True) + x[0]", (2, 5, 4)),
    ("x[0] @ x[1]", None),
)


def _compare_predictions(expected, got):
    from helpers.exercises import describe

    if not isinstance(got, (list, tuple)) or len(got) != len(expected):
        return f"expected a tuple of {len(expected)} predictions, got {describe(got)}"
    if any(item is Ellipsis for item in got):
        return "not answered yet (replace each ... with a shape tuple, or None for an error)"
    wrong = []
    for (expression, _), want, have in zip(PREDICT_SHAPES, expected, got):
        have = tuple(have) if isinstance(have, (list, tuple, torch.Size)) else have
        if have != want:
            wrong.append(f"{expression}: expected {'an error (None)' if want is None else want}, "
                         f"you said {'an error' if have is None else have}")
    if wrong:
        return (f"{len(wrong)} of {len(expected)} wrong. " + "; ".join(wrong)
                + ". Run each expression to see why")
    return None


register(Exercise(
    id="01.predict_shapes",
    task="predict the shape of each expression on x of shape (2, 5, 4), or None where it raises",
    reference=tuple(shape for _, shape in PREDICT_SHAPES),
    compare=_compare_predictions,
    solution="((2, 5, 5), (2, 4, 4), (2, 5, 4), (2, 5, 4), None)   # the last: (5, 4) @ (5, 4), inner sizes 4 and 5",
))

register(Exercise(
    id="01.embed",
    task="write embed(table, ids): look up each token id's row in the table; (V, D) and (B, T) give (B, T, D)",
    reference=lambda table, ids: table[ids],
    make_inputs=lambda rng: (rng.normal(size=(10, 3)), rng.integers(0, 10, size=(int(rng.integers(1, 4)), 5))),
    solution="def embed(table, ids):\n    return table[ids]   # fancy indexing: one row per id",
))
