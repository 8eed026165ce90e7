"""Exercises of notebook 01_tensors: shapes, broadcasting, matmul, a batch of sentences."""
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

register(Exercise(
    id="01.pair_scores",
    task="write pair_scores(x): for a torch batch x of shape (B, T, D), every word's dot product "
         "with every word of its own sentence, shape (B, T, T)",
    reference=lambda x: x @ x.transpose(-2, -1),
    make_inputs=lambda rng: (torch.tensor(rng.normal(size=(int(rng.integers(1, 4)), int(rng.integers(2, 7)), 4)),
                                          dtype=torch.float32),),
    solution="def pair_scores(x):\n    return x @ x.transpose(-2, -1)   # (B, T, D) @ (B, D, T) -> (B, T, T)",
))

register(Exercise(
    id="01.embed",
    task="write embed(table, ids): look up each token id's row in the table; (V, D) and (B, T) give (B, T, D)",
    reference=lambda table, ids: table[ids],
    make_inputs=lambda rng: (rng.normal(size=(10, 3)), rng.integers(0, 10, size=(int(rng.integers(1, 4)), 5))),
    solution="def embed(table, ids):\n    return table[ids]   # fancy indexing: one row per id",
))
