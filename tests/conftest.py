"""Fixtures shared by several test files."""
import numpy as np
import pytest

from helpers import embeddings


@pytest.fixture
def toy_word_vectors():
    """Five unit word vectors in 3-D: two royal, two fruit, and "duke" nearest "king" (notebook 02)."""
    vocab = ["king", "queen", "apple", "pear", "duke"]
    vectors = np.array([[1.0, 0.1, 0.0], [0.9, 0.3, 0.0], [0.0, 1.0, 0.2], [0.1, 0.9, 0.3], [1.0, 0.0, 0.1]])
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    return embeddings.WordVectors(vocab, vectors, np.array([50, 40, 30, 20, 10]))
