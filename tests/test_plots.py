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
    assert [ax.get_title() for ax in fig.axes[:3]] == ["a: shape (2, 1), stretched", "b: shape (1, 3), stretched",
                                                       "a + b: shape (2, 3)"]
    assert all(ax.images[0].get_array().shape == (2, 3) for ax in fig.axes[:3])   # all drawn at the result's shape
    plt.close(fig)


# ---------------------------------------------------------------- 04_softmax_and_scaling

def test_plot_softmax_state_titles_name_the_gradient_that_reaches_q():
    from helpers.attention import softmax_state

    state = softmax_state(d_k=16, scaled=False)
    axes = plots.plot_softmax_state(state, 16, 1.0, False)
    assert "d_k = 16" in axes[0].get_title() and "unscaled" in axes[0].get_title()
    assert "d weights / d q" in axes[1].get_title() and f"{state['gradient_size']:.3g}" in axes[1].get_title()
    plt.close("all")


def test_heatmap_names_labels_that_do_not_fit():
    with pytest.raises(ValueError, match=r"\(2, 3\) has 2 rows but 3 row labels.*transpose"):
        plots.heatmap(np.zeros((2, 3)), row_labels=["a", "b", "c"], col_labels=["x", "y"])
    plt.close("all")
