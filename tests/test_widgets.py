"""Tests of the widget builders (helpers/widgets.py): each builds, shows its default state and
follows its controls. The computations behind them are tested with their own modules (tensors,
embeddings, attention, backprop, rnn). ipywidgets is a dependency, imported plainly: a broken
install fails here instead of being skipped.

One section per notebook; add yours below the others.
"""
import ipywidgets
import numpy as np

from helpers import attention, backprop, embeddings, rnn, tensors, widgets


def test_the_computations_notebooks_call_through_widgets_are_their_modules_own():
    # Notebooks 01-06 call helpers.widgets.softmax_state and the like; they are the same functions.
    assert widgets.broadcast_result is tensors.broadcast_result
    assert widgets.neighbour_table is embeddings.neighbour_table
    assert widgets.query_attention is attention.query_attention
    assert widgets.softmax_state is attention.softmax_state
    assert widgets.descent_path is backprop.descent_path and widgets.descent_regime is backprop.descent_regime
    assert widgets.gradients_through_time is rnn.gradients_through_time


# ---------------------------------------------------------------- 01_tensors: shape playground

def test_shape_playground_builds_a_widget():
    widget = widgets.shape_playground()
    assert isinstance(widget, ipywidgets.Widget) and widget.children[0].value == "2, 1, 4"


# ---------------------------------------------------------------- 02_embeddings: neighbours and 2-D map

def test_embedding_widgets_build(toy_word_vectors):
    toy = toy_word_vectors
    assert isinstance(widgets.neighbour_explorer(toy, start="king", k=2), ipywidgets.Widget)
    assert isinstance(widgets.word_map_explorer(toy, ["king", "queen", "apple"]), ipywidgets.Widget)


# ---------------------------------------------------------------- 03_attention: query explorer

def test_attention_explorer_builds_and_follows_the_menus():
    rng = np.random.default_rng(0)
    x, w_q, w_k, w_v = rng.normal(size=(5, 6)), rng.normal(size=(6, 3)), rng.normal(size=(6, 3)), rng.normal(size=(6, 4))
    words = [["a", "b", "it", "c", "d"], ["e", "it", "f"]]
    explorer = widgets.attention_explorer(words, [x, x[:3]], w_q, w_k, w_v)
    sentence_box, word_box, picture = explorer.children
    assert word_box.value == 2 and picture.value[:4] == b"\x89PNG"
    sentence_box.value = 1                              # shorter sentence: position clipped to 2
    assert word_box.value == 2 and len(word_box.options) == 3
    word_box.value = 0
    assert picture.value[:4] == b"\x89PNG"


# ---------------------------------------------------------------- 04_softmax_and_scaling: d_k and temperature

def test_softmax_explorer_builds_and_redraws():
    explorer = widgets.softmax_explorer()
    (d_k, temperature, scaled), picture = explorer.children[0].children, explorer.children[1]
    assert d_k.value == 64 and temperature.value == 1.0 and scaled.value
    first = picture.value
    d_k.value = 1024
    scaled.value = False
    assert picture.value[:4] == b"\x89PNG" and picture.value != first


# ---------------------------------------------------------------- 05_backprop: learning-rate stepper

def test_learning_rate_stepper_builds():
    assert isinstance(widgets.learning_rate_stepper(), ipywidgets.Widget)


# ---------------------------------------------------------------- 06_why_transformers: recurrent scale

def test_recurrent_scale_explorer_builds():
    assert isinstance(widgets.recurrent_scale_explorer(length=10), ipywidgets.Widget)
