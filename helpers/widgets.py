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


# ====================================================================== 03_attention: query explorer

def query_attention(x, w_q, w_k, w_v, query_index, mask=None):
    """Everything one query word does in one attention head, as a dict of NumPy arrays.

    x (T, D) word vectors; w_q, w_k (D, d_k); w_v (D, d_v); mask (T, T) boolean or None.
    Keys: query (d_k,), scores (T,) = q . k_j, scaled (T,) = scores / sqrt(d_k) (-inf where
    masked), weights (T,) summing to 1, output (d_v,) = weights @ V. Used in notebook 03.
    """
    from helpers.attention import scaled_dot_product_attention

    x = np.asarray(x, dtype=float)
    q, k, v = x @ w_q, x @ w_k, x @ w_v                                  # (T, d_k), (T, d_k), (T, d_v)
    query = q[query_index]                                               # (d_k,)
    row_mask = None if mask is None else np.asarray(mask)[query_index]   # (T,)
    output, weights = scaled_dot_product_attention(query[None], k, v,
                                                   None if row_mask is None else row_mask[None])
    scores = k @ query                                                   # (T,)
    scaled = scores / np.sqrt(k.shape[-1])
    if row_mask is not None:
        scaled = np.where(row_mask, scaled, -np.inf)
    return {"query": query, "scores": scores, "scaled": scaled, "weights": weights[0], "output": output[0]}


def attention_explorer(words_by_sentence, inputs_by_sentence, w_q, w_k, w_v, feature_names=None,
                       start=(0, "it")):
    """Pick a sentence and a query word; see its scaled scores, weights and output (notebook 03)."""
    import ipywidgets as widgets
    import matplotlib.pyplot as plt

    from helpers.plots import plot_query_attention

    sentence_box = widgets.Dropdown(options=[(" ".join(ws), i) for i, ws in enumerate(words_by_sentence)],
                                    value=start[0], description="sentence", layout={"width": "95%"})
    word_options = lambda s: [(f"{i}: {w}", i) for i, w in enumerate(words_by_sentence[s])]
    word_box = widgets.Dropdown(options=word_options(start[0]), description="query word",
                                value=words_by_sentence[start[0]].index(start[1]))

    def new_sentence(change):  # keep the same position when the sentence changes
        position = min(word_box.value, len(words_by_sentence[change["new"]]) - 1)
        word_box.options = word_options(change["new"])
        word_box.value = position

    sentence_box.observe(new_sentence, names="value")

    def show(sentence, query_index):
        result = query_attention(inputs_by_sentence[sentence], w_q, w_k, w_v, query_index)
        plot_query_attention(words_by_sentence[sentence], result, query_index, feature_names)
        plt.show()

    return widgets.interactive(show, sentence=sentence_box, query_index=word_box)


# ====================================================================== 04_softmax_and_scaling: d_k and temperature

def softmax_state(d_k=64, temperature=1.0, scaled=True, n_keys=10, seed=0):
    """One query against n_keys random keys: the scores, their softmax and its gradient (Jacobian).

    q and the keys have d_k independent standard-normal entries, so each score q . k has variance
    d_k. Scores are divided by sqrt(d_k) when `scaled`, then by `temperature`, then softmaxed.
    Returns a dict: scores (n_keys,) as fed to softmax, weights (n_keys,), jacobian
    (n_keys, n_keys) = d weights / d scores = diag(p) - p p^T, gradient_size (its Frobenius norm),
    max_weight and entropy (in nats). Used in notebook 04.
    """
    from helpers.attention import softmax

    if temperature <= 0:
        raise ValueError(f"temperature must be positive, got {temperature}")
    rng = np.random.default_rng(seed)
    query, keys = rng.normal(size=d_k), rng.normal(size=(n_keys, d_k))   # (d_k,), (n_keys, d_k)
    scores = keys @ query                                                  # (n_keys,)
    if scaled:
        scores = scores / np.sqrt(d_k)
    scores = scores / temperature
    weights = softmax(scores)
    jacobian = np.diag(weights) - np.outer(weights, weights)               # (n_keys, n_keys)
    entropy = -np.sum(weights * np.log(np.clip(weights, 1e-300, None)))
    return {"scores": scores, "weights": weights, "jacobian": jacobian,
            "gradient_size": float(np.linalg.norm(jacobian)), "max_weight": float(weights.max()),
            "entropy": float(entropy)}


def softmax_explorer():
    """Sliders for d_k and the temperature, a box for the sqrt(d_k) scaling (notebook 04)."""
    import ipywidgets as widgets
    import matplotlib.pyplot as plt

    from helpers.plots import plot_softmax_state

    def show(d_k, temperature, scaled):
        plot_softmax_state(softmax_state(d_k, temperature, scaled), d_k, temperature, scaled)
        plt.show()

    return widgets.interactive(
        show,
        d_k=widgets.SelectionSlider(options=[2 ** i for i in range(11)], value=64, description="d_k"),
        temperature=widgets.FloatLogSlider(value=1.0, base=10, min=-1, max=1, step=0.05, description="temperature"),
        scaled=widgets.Checkbox(value=True, description="divide by sqrt(d_k)"),
    )


# ====================================================================== 05_backprop: learning-rate stepper

def descent_path(learning_rate, start=1.5, steps=10):
    """Gradient descent on L(w) = w**2 (slope 2w): the weights w_0, w_1, ..., w_steps.

    Each step moves against the slope: w <- w - learning_rate * 2w = (1 - 2 * learning_rate) * w.
    """
    path = [float(start)]
    for _ in range(steps):
        slope = 2 * path[-1]
        path.append(path[-1] - learning_rate * slope)
    return np.array(path)


def descent_regime(learning_rate):
    """What descent on L(w) = w**2 does at this learning rate, in words.

    Each step multiplies w by (1 - 2 * learning_rate): its size decides everything.
    """
    factor = 1 - 2 * learning_rate
    if learning_rate <= 0:
        return "not moving downhill (the learning rate must be positive)"
    if abs(factor) > 1:
        return "diverging: each step overshoots further than the last"
    if factor == -1:
        return "oscillating forever: bouncing between w and -w"
    if factor < 0:
        return "oscillating, but converging: it overshoots the bottom by less each time"
    if factor == 0:
        return "converging in one step: it lands exactly on the bottom"
    return "converging: every step goes straight downhill"


def learning_rate_stepper(start=1.5):
    """A learning-rate slider and a step slider; draws the path of descent on L(w) = w**2."""
    import ipywidgets as widgets
    import matplotlib.pyplot as plt

    from helpers.plots import plot_descent

    def show(learning_rate, steps):
        path = descent_path(learning_rate, start, steps)
        plot_descent(path, title=f"learning rate {learning_rate:.2f}: {descent_regime(learning_rate).split(':')[0]}")
        plt.show()

    rate = widgets.FloatSlider(value=0.1, min=0.02, max=1.1, step=0.02, description="learning rate",
                               continuous_update=False)
    steps = widgets.IntSlider(value=5, min=0, max=15, description="steps")
    return widgets.interactive(show, learning_rate=rate, steps=steps)



# ====================================================================== 06_why_transformers: recurrent scale

def gradients_through_time(scale, length=40, hidden=32, features=8, seed=0):
    """How much the last state feels each input, for an RNN whose W_hh is stretched by `scale`,
    next to one causal attention head on the same inputs.

    Returns {"rnn": (length,) array, "attention": (length,) array}, entry t being
    ||d last / d x_t||; the last entry is the newest input.
    """
    import torch

    from helpers.rnn import TanhRNN, attention_gradient_norms, set_recurrent_scale, state_gradient_norms

    generator = torch.Generator().manual_seed(seed)
    inputs = 0.1 * torch.randn(1, length, features, generator=generator)    # (1, T, C), small
    torch.manual_seed(seed)
    rnn = set_recurrent_scale(TanhRNN(features, hidden), scale, seed=seed)
    w_q, w_k, w_v = (torch.randn(features, hidden, generator=generator) / features ** 0.5 for _ in range(3))
    return {"rnn": state_gradient_norms(rnn, inputs).numpy(),
            "attention": attention_gradient_norms(inputs, w_q, w_k, w_v).detach().numpy()}


def recurrent_scale_explorer(length=40):
    """A slider for the scale of W_hh; draws the gradient norms through time on a log scale."""
    import ipywidgets as widgets
    import matplotlib.pyplot as plt

    from helpers.plots import plot_gradient_norms

    def show(scale):
        norms = gradients_through_time(scale, length)
        plot_gradient_norms({f"RNN, W_hh scale {scale:.2f}": norms["rnn"], "attention": norms["attention"]})
        plt.show()

    slider = widgets.FloatSlider(value=1.0, min=0.3, max=2.5, step=0.05, description="W_hh scale",
                                 continuous_update=False)
    return widgets.interactive(show, scale=slider)



# ====================================================================== 08_what_is_it


# ====================================================================== 09_gpt_on_gpu
