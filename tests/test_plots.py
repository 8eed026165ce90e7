"""Figures shared by the notebooks (helpers/plots.py): they draw what they are given.

One section per notebook; add yours below the others.
"""
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from helpers import plots  # noqa: E402


def test_heatmap_labels_and_annotates_and_refuses_non_matrices():
    ax = plots.heatmap(np.arange(6).reshape(2, 3), row_labels=["a", "b"], col_labels=["x", "y", "z"], title="t")
    assert [t.get_text() for t in ax.get_xticklabels()] == ["x", "y", "z"]
    assert len(ax.texts) == 6 and ax.get_title() == "t"
    with pytest.raises(ValueError, match="2-D matrix, got shape \\(3,\\)"):
        plots.heatmap(np.arange(3))
    plt.close("all")


# ---------------------------------------------------------------- 01_tensors

def test_broadcast_picture_shows_the_three_shapes():
    fig = plots.broadcast_picture(np.array([[0], [10]]), np.array([[1, 2, 3]]))
    assert [ax.get_title() for ax in fig.axes[:3]] == ["a: shape (2, 1)", "b: shape (1, 3)", "a + b: shape (2, 3)"]
    plt.close(fig)
