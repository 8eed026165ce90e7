"""Figures shared by the notebooks (helpers/plots.py): they draw what they are given.

One section per notebook; add yours below the others.
"""
import matplotlib
import matplotlib.text

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


# ---------------------------------------------------------------- 03_attention

FLOW_ORDER = [["x"], ["W_q", "W_k", "W_v"], ["Q", "K", "V"], ["scores"], ["scale"], ["softmax"], ["weights"],
              ["weighted"], ["output"]]          # the stages' keys, column by column, left to right


def flow_texts(ax):
    return {text.get_gid(): text for text in ax.texts if text.get_gid()}


def test_attention_flow_diagram_draws_every_stage_left_to_right_in_flow_order():
    ax = plots.attention_flow_diagram()
    texts = flow_texts(ax)
    assert [texts[key].get_text() for key in ("x", "W_q", "Q", "scores", "scale", "softmax", "weights",
                                              "weighted", "output")] == [
        "x", "W_q", "Q", "scores", "÷ √d_k", "softmax", "weights", "weights · V", "output"]
    columns = [{texts[key].get_position()[0] for key in column} for column in FLOW_ORDER]
    assert all(len(column) == 1 for column in columns)               # W_q, W_k, W_v stand in one column
    lefts = [column.pop() for column in columns]
    assert lefts == sorted(lefts) and len(set(lefts)) == len(lefts)  # each step right of the one before
    arrows = [text for text in ax.texts if isinstance(text, matplotlib.text.Annotation)]
    assert len(arrows) == 14 and all(arrow.xy[0] > arrow.xyann[0] for arrow in arrows)   # all point right
    assert not any(key.startswith("shape") for key in texts)        # no shapes unless asked for
    plt.close("all")


def test_attention_flow_diagram_keeps_its_words_inside_their_boxes():
    ax = plots.attention_flow_diagram(shapes=plots.flow_shapes(12, 8, 4, 4))
    renderer = ax.figure.canvas.get_renderer()
    boxes = [patch.get_window_extent(renderer) for patch in ax.patches]
    assert len(boxes) == 13
    words = [text for text in ax.texts if text.get_text() and not (text.get_gid() or "").startswith("shape")]
    assert len(words) == 26                                          # a label and a role per box
    for text in words:
        extent = text.get_window_extent(renderer)
        home = [box for box in boxes if box.x0 <= (extent.x0 + extent.x1) / 2 <= box.x1
                and box.y0 <= (extent.y0 + extent.y1) / 2 <= box.y1]
        assert len(home) == 1, f"{text.get_text()!r} is not in one box"
        assert home[0].x0 < extent.x0 and extent.x1 < home[0].x1, f"{text.get_text()!r} spills out of its box"
    plt.close("all")


def test_attention_flow_diagram_writes_the_shapes_it_is_given_on_the_ax_it_is_given():
    fig, ax = plt.subplots()
    figures = plt.get_fignums()
    assert plots.attention_flow_diagram(ax=ax, shapes=plots.flow_shapes(T=12, D=8, d_k=4, d_v=3)) is ax
    assert plt.get_fignums() == figures and fig.axes == [ax]         # no new figure, no new axes
    texts = flow_texts(ax)
    shapes = {key[len("shape "):]: text.get_text() for key, text in texts.items() if key.startswith("shape ")}
    assert shapes["x"] == "(12, 8)" and shapes["W_q"] == "(8, 4)" and shapes["W_v"] == "(8, 3)"
    assert shapes["scores"] == shapes["weights"] == "(12, 12)" and shapes["output"] == "(12, 3)"
    assert len(shapes) == 13
    for key, shape_text in shapes.items():                           # each right under its own box
        label = texts[key]
        assert shape_text and texts[f"shape {key}"].get_position()[0] == label.get_position()[0]
        assert texts[f"shape {key}"].get_position()[1] < label.get_position()[1]
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
