"""Tests of the plain functions behind the notebooks' widgets (helpers/widgets.py).

One section per notebook; add yours below the others.
"""
import numpy as np
import pytest

from helpers import widgets


# ---------------------------------------------------------------- 01_tensors: shape playground

@pytest.mark.parametrize("shape_a, shape_b", [
    ((2, 1, 4), (3, 1)), ((5,), (5,)), ((4, 3), (3,)), ((1,), (2, 3)), ((), (2, 2)),
    ((2, 3), (3, 2)), ((4, 1), (1, 5, 3)), ((8, 1, 6, 1), (7, 1, 5)), ((3,), (4,)),
    ((0,), (1,)), ((2, 0), (1,)), ((1, 0), (3, 1)), ((0,), (2,)),      # a 1 stretches even to 0
])
def test_broadcast_result_agrees_with_numpy(shape_a, shape_b):
    result, lines = widgets.broadcast_result(shape_a, shape_b)
    try:
        expected = np.broadcast_shapes(shape_a, shape_b)
    except ValueError:
        expected = None
    assert result == expected
    if expected is None:
        assert "clash" in lines[-1]


def test_parse_shape_reads_common_spellings_and_explains_bad_ones():
    assert widgets.parse_shape("2, 3, 4") == (2, 3, 4)
    assert widgets.parse_shape("(2,3)") == (2, 3)
    assert widgets.parse_shape("[5]") == (5,)
    assert widgets.parse_shape("") == ()
    with pytest.raises(ValueError, match="separated by commas"):
        widgets.parse_shape("two, three")
    with pytest.raises(ValueError, match="separate the sizes with commas, like 2, 3, 4"):
        widgets.parse_shape("2 3 4")                 # not silently (234,)
    with pytest.raises(ValueError, match="like 2, 3, 4"):
        widgets.parse_shape("2, 3 4")                # not silently (2, 34)
    with pytest.raises(TypeError, match="tuples of sizes"):
        widgets.broadcast_result("2, 1, 4", (3, 1))


def test_shape_playground_text_names_the_result_or_the_clash():
    assert "broadcast to (2, 3, 4)" in widgets.shape_playground_text("2, 1, 4", "3, 1")
    text = widgets.shape_playground_text("2, 3", "4")
    assert "cannot broadcast" in text and "3 and 4 clash" in text
    assert widgets.shape_playground_text("x", "3").startswith("Input problem")


def test_shape_playground_builds_a_widget():
    widget = widgets.shape_playground()
    assert widget.children[0].value == "2, 1, 4"


# ---------------------------------------------------------------- 05_backprop: learning-rate stepper

@pytest.mark.parametrize("learning_rate, word", [
    (0.1, "converging"), (0.5, "one step"), (0.8, "oscillating, but converging"),
    (1.0, "oscillating forever"), (1.2, "diverging"), (0.0, "not moving"),
])
def test_descent_regime_matches_the_path(learning_rate, word):
    assert word in widgets.descent_regime(learning_rate)
    path = widgets.descent_path(learning_rate, start=1.5, steps=40)
    assert path.shape == (41,) and path[0] == 1.5
    sizes = np.abs(path)
    if "diverging" in word:
        assert np.all(np.diff(sizes) > 0)
    elif "forever" in word:
        assert np.allclose(sizes, 1.5)
    elif learning_rate > 0:
        assert sizes[-1] < 1e-2 * sizes[0]
    signs = np.sign(path[:3])
    assert (signs[1] < 0) == ("oscillating" in word or "diverging" in word)


def test_descent_path_follows_the_slope_2w():
    path = widgets.descent_path(0.1, start=2.0, steps=1)
    assert np.allclose(path, [2.0, 2.0 - 0.1 * 4.0])


def test_learning_rate_stepper_builds():
    pytest.importorskip("ipywidgets")
    assert widgets.learning_rate_stepper() is not None


# ---------------------------------------------------------------- 06_why_transformers: recurrent scale

def test_gradients_through_time_vanish_and_explode_with_the_scale():
    small = widgets.gradients_through_time(0.5, length=30)
    large = widgets.gradients_through_time(2.0, length=30)
    assert small["rnn"].shape == (30,) and small["attention"].shape == (30,)
    assert small["rnn"][0] < 1e-6 * small["rnn"][-1]           # the oldest input is all but forgotten
    assert large["rnn"][0] > 10 * large["rnn"][-1]             # the oldest input's gradient blew up
    spread = small["attention"].max() / small["attention"].min()
    assert spread < 100                                         # attention: one step from every input


def test_recurrent_scale_explorer_builds():
    pytest.importorskip("ipywidgets")
    assert widgets.recurrent_scale_explorer(length=10) is not None


# ---------------------------------------------------------------- 02_embeddings: neighbours and 2-D map

def _toy_word_vectors():
    from helpers.embeddings import WordVectors

    vocab = ["king", "queen", "apple", "pear", "duke"]
    vectors = np.array([[1.0, 0.1, 0.0], [0.9, 0.3, 0.0], [0.0, 1.0, 0.2], [0.1, 0.9, 0.3], [1.0, 0.0, 0.1]])
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    return WordVectors(vocab, vectors, np.array([50, 40, 30, 20, 10]))


def test_neighbour_table_lists_neighbours_or_says_why_not():
    toy = _toy_word_vectors()
    table = widgets.neighbour_table(toy, "  King ", k=2)
    lines = table.splitlines()
    assert lines[0] == "nearest to 'king' (50 times in the plays):"
    assert [line.split()[0] for line in lines[1:]] == ["duke", "queen"]
    assert "'swap' has no vector" in widgets.neighbour_table(toy, "swap")
    assert widgets.neighbour_table(toy, " ") == "Type a word."


def test_word_map_points_keeps_distances_of_the_chosen_words():
    toy = _toy_word_vectors()
    points, kept, missing = widgets.word_map_points(toy, ["king", "queen", "swap", "apple", "pear", "king"])
    assert kept == ["king", "queen", "apple", "pear"] and missing == ["swap"]
    assert points.shape == (4, 2)
    distance = lambda a, b: np.linalg.norm(points[kept.index(a)] - points[kept.index(b)])
    assert distance("king", "queen") < distance("king", "apple")
    assert np.allclose(points.mean(axis=0), 0)
    two, kept_two, _ = widgets.word_map_points(toy, ["king", "pear"])
    assert two.shape == (2, 2) and kept_two == ["king", "pear"]
    assert widgets.word_map_points(toy, ["swap"])[0].shape == (0, 2)


def test_embedding_widgets_build():
    pytest.importorskip("ipywidgets")
    toy = _toy_word_vectors()
    assert widgets.neighbour_explorer(toy, start="king", k=2) is not None
    assert widgets.word_map_explorer(toy, ["king", "queen", "apple"]) is not None


# ---------------------------------------------------------------- 03_attention: query explorer

def _attention_toy(seed=0, T=5, D=6, d_k=3, d_v=4):
    rng = np.random.default_rng(seed)
    return (rng.normal(size=(T, D)), rng.normal(size=(D, d_k)), rng.normal(size=(D, d_k)),
            rng.normal(size=(D, d_v)))


def test_query_attention_matches_attention_on_all_queries():
    from helpers.attention import scaled_dot_product_attention

    x, w_q, w_k, w_v = _attention_toy()
    output, weights = scaled_dot_product_attention(x @ w_q, x @ w_k, x @ w_v)
    for i in range(len(x)):
        result = widgets.query_attention(x, w_q, w_k, w_v, i)
        assert np.allclose(result["weights"], weights[i]) and np.allclose(result["output"], output[i])
        assert np.allclose(result["scaled"], result["scores"] / np.sqrt(3))
        assert np.isclose(result["weights"].sum(), 1.0)


def test_query_attention_with_a_causal_mask_hides_later_words():
    from helpers.attention import causal_mask

    x, w_q, w_k, w_v = _attention_toy()
    result = widgets.query_attention(x, w_q, w_k, w_v, 2, mask=causal_mask(5))
    assert np.all(result["weights"][3:] == 0) and np.all(np.isneginf(result["scaled"][3:]))
    assert np.isclose(result["weights"][:3].sum(), 1.0)


def test_attention_explorer_builds_and_follows_the_menus():
    pytest.importorskip("ipywidgets")
    x, w_q, w_k, w_v = _attention_toy()
    words = [["a", "b", "it", "c", "d"], ["e", "it", "f"]]
    explorer = widgets.attention_explorer(words, [x, x[:3]], w_q, w_k, w_v)
    sentence_box, word_box, picture = explorer.children
    assert word_box.value == 2 and picture.value[:4] == b"\x89PNG"
    sentence_box.value = 1                              # shorter sentence: position clipped to 2
    assert word_box.value == 2 and len(word_box.options) == 3
    word_box.value = 0
    assert picture.value[:4] == b"\x89PNG"


# ---------------------------------------------------------------- 04_softmax_and_scaling: d_k and temperature

def test_softmax_state_weights_and_jacobian():
    state = widgets.softmax_state(d_k=16, temperature=0.5, scaled=True, n_keys=7, seed=3)
    p = state["weights"]
    assert p.shape == (7,) and np.isclose(p.sum(), 1.0)
    assert np.allclose(state["jacobian"], np.diag(p) - np.outer(p, p))
    assert np.allclose(state["jacobian"].sum(axis=0), 0)        # shifting every score changes nothing
    assert np.isclose(state["max_weight"], p.max())
    assert np.isclose(state["entropy"], -(p * np.log(p)).sum())


def test_softmax_state_jacobian_equals_autograd():
    import torch

    state = widgets.softmax_state(d_k=8, n_keys=5, seed=1)
    scores = torch.tensor(state["scores"], requires_grad=True)
    jacobian = torch.autograd.functional.jacobian(lambda s: torch.softmax(s, -1), scores)
    assert np.allclose(state["jacobian"], jacobian.numpy())


def test_softmax_state_gradient_q_equals_autograd_with_the_scaling_factor():
    import torch

    for scaled, temperature in ((True, 1.0), (False, 1.0), (True, 0.5)):
        state = widgets.softmax_state(d_k=8, temperature=temperature, scaled=scaled, n_keys=5, seed=2)
        rng = np.random.default_rng(2)
        query, keys = (torch.tensor(a) for a in (rng.normal(size=8), rng.normal(size=(5, 8))))
        divide_by = (np.sqrt(8) if scaled else 1.0) * temperature
        jacobian = torch.autograd.functional.jacobian(lambda q: torch.softmax(keys @ q / divide_by, -1), query)
        assert np.allclose(state["gradient_q"], jacobian.numpy())
        assert np.isclose(state["gradient_size"], np.linalg.norm(jacobian.numpy()))


def test_softmax_state_gradient_agrees_with_notebook_04_measurement_3():
    # the trend of measurement 3 (the Jacobian's norm is on another scale than its median gradient):
    # unscaled: larger than scaled at small d_k (not yet saturated), vanishing at d_k = 1024
    small = [widgets.softmax_state(d_k=16, scaled=s)["gradient_size"] for s in (True, False)]
    assert small[1] > small[0]
    scaled = widgets.softmax_state(d_k=1024, scaled=True)
    unscaled = widgets.softmax_state(d_k=1024, scaled=False)
    assert unscaled["max_weight"] > 0.99 and unscaled["gradient_size"] < scaled["gradient_size"] / 100
    scaled_sizes = [widgets.softmax_state(d_k=d)["gradient_size"] for d in (4, 64, 1024)]
    assert max(scaled_sizes) < 2 * min(scaled_sizes)          # scaled: about one size for every d_k


def test_softmax_state_saturates_with_low_temperature():
    cold, hot = widgets.softmax_state(temperature=0.1), widgets.softmax_state(temperature=10.0)
    assert cold["entropy"] < hot["entropy"] and cold["max_weight"] > hot["max_weight"]
    assert hot["entropy"] <= np.log(10) + 1e-12
    with pytest.raises(ValueError, match="temperature must be positive"):
        widgets.softmax_state(temperature=0)


def test_softmax_explorer_builds_and_redraws():
    pytest.importorskip("ipywidgets")
    explorer = widgets.softmax_explorer()
    (d_k, temperature, scaled), picture = explorer.children[0].children, explorer.children[1]
    assert d_k.value == 64 and temperature.value == 1.0 and scaled.value
    first = picture.value
    d_k.value = 1024
    scaled.value = False
    assert picture.value[:4] == b"\x89PNG" and picture.value != first


def test_query_attention_names_a_word_given_for_a_position_and_a_wrong_mask():
    x, w = np.eye(5), np.eye(5)
    with pytest.raises(ValueError, match=r"0 to 4, got 'it'.*words.index\(word\)"):
        widgets.query_attention(x, w, w, w, "it")
    with pytest.raises(ValueError, match=r"mask must be \(T, T\) = \(5, 5\)"):
        widgets.query_attention(x, w, w, w, 2, mask=np.ones((4, 4), dtype=bool))
