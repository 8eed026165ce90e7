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


def shape_playground():
    """Two text boxes for shapes; shows the broadcast result or explains the clash."""
    import ipywidgets as widgets

    box_a = widgets.Text(value="2, 1, 4", description="shape a")
    box_b = widgets.Text(value="3, 1", description="shape b")
    return widgets.interactive(lambda a, b: print(shape_playground_text(a, b)), a=box_a, b=box_b)


# ====================================================================== 02_embeddings

def neighbour_table(word_vectors, word, k=8):
    """The text the neighbour explorer shows: `word`'s k nearest words by cosine, or why there are none.

    word_vectors: a helpers.embeddings.WordVectors. The typed word is lower-cased and trimmed.
    """
    word = word.strip().lower()
    if not word:
        return "Type a word."
    if word not in word_vectors:
        return (f"{word!r} has no vector: it is not among the {len(word_vectors.vocab)} most frequent "
                f"words of the plays (rare and unseen words get none).")
    count = int(word_vectors.word_counts[word_vectors.token_to_id[word]])
    lines = [f"nearest to {word!r} ({count} times in the plays):"]
    lines += [f"  {other:<14} {similarity:.2f}" for other, similarity in word_vectors.neighbours(word, k)]
    return "\n".join(lines)


def word_map_points(word_vectors, words):
    """(points (n, 2), kept words, missing words): chosen words' vectors flattened to 2-D.

    The 2-D map is a PCA of just these words: centre their vectors, keep the two directions in
    which they differ most. Words without a vector are left out and listed as missing.
    Each axis's sign is fixed (its largest coordinate positive) so the picture does not flip.
    """
    if isinstance(words, str):
        raise TypeError("word_map_points takes a list of words, got a str: split it first, e.g. text.split(',')")
    cleaned = [w.strip().lower() for w in words if w.strip()]
    kept = list(dict.fromkeys(w for w in cleaned if w in word_vectors))  # no repeats, order kept
    missing = [w for w in cleaned if w not in word_vectors]
    if len(kept) < 2:
        return np.zeros((len(kept), 2)), kept, missing
    matrix = np.stack([word_vectors[w] for w in kept])  # (n, dim)
    centred = matrix - matrix.mean(axis=0)
    _, _, directions = np.linalg.svd(centred, full_matrices=False)  # directions (n, dim)
    points = centred @ directions[:2].T  # (n, 2)
    if points.shape[1] < 2:  # two words give one direction only
        points = np.pad(points, ((0, 0), (0, 2 - points.shape[1])))
    signs = np.sign(points[np.abs(points).argmax(axis=0), np.arange(2)])
    return points * np.where(signs == 0, 1, signs), kept, missing


def neighbour_explorer(word_vectors, start="king", k=8):
    """Type or pick a word, see its nearest neighbours (notebook 02)."""
    import ipywidgets as widgets

    box = widgets.Combobox(value=start, options=list(word_vectors.vocab[:2000]), ensure_option=False,
                           description="word", placeholder="type a word")
    count = widgets.IntSlider(value=k, min=1, max=20, description="neighbours")
    return widgets.interactive(lambda word, k: print(neighbour_table(word_vectors, word, k)), word=box, k=count)


def word_map_explorer(word_vectors, words):
    """Edit a comma-separated list of words and see them on a 2-D map (notebook 02)."""
    import ipywidgets as widgets
    import matplotlib.pyplot as plt

    from helpers.plots import word_map

    box = widgets.Textarea(value=", ".join(words), description="words", layout={"width": "95%"})

    def show(text):
        points, kept, missing = word_map_points(word_vectors, text.split(","))
        word_map(points, kept, missing=missing)
        plt.show()

    return widgets.interactive(show, text=box)



# ====================================================================== 03_attention: query explorer

def query_attention(x, w_q, w_k, w_v, query_index, mask=None):
    """Everything one query word does in one attention head, as a dict of NumPy arrays.

    x (T, D) word vectors; w_q, w_k (D, d_k); w_v (D, d_v); mask (T, T) boolean or None.
    Keys: query (d_k,), scores (T,) = q . k_j, scaled (T,) = scores / sqrt(d_k) (-inf where
    masked), weights (T,) summing to 1, output (d_v,) = weights @ V. Used in notebook 03.
    """
    from helpers.attention import scaled_dot_product_attention

    x = np.asarray(x, dtype=float)
    if isinstance(query_index, bool) or not isinstance(query_index, (int, np.integer)) \
            or not -len(x) <= query_index < len(x):
        raise ValueError(f"query_index must be a word's position, 0 to {len(x) - 1}, got {query_index!r}: "
                         "for a word, use words.index(word)")
    if mask is not None and np.shape(mask) != (len(x), len(x)):
        raise ValueError(f"mask must be (T, T) = ({len(x)}, {len(x)}) for these {len(x)} words, got {np.shape(mask)}")
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


def figure_png(draw):
    """Run draw() (it makes a matplotlib figure), return the figure as PNG bytes and close it.

    The widgets of notebooks 03 and 04 show their figure as an image widget, so nothing is
    printed or displayed while they update (the same in JupyterLab, nbconvert and nbval).
    """
    import io

    import matplotlib.pyplot as plt

    with plt.ioff():
        draw()
        figure = plt.gcf()
        buffer = io.BytesIO()
        figure.savefig(buffer, format="png", bbox_inches="tight")
        plt.close(figure)
    return buffer.getvalue()


def attention_explorer(words_by_sentence, inputs_by_sentence, w_q, w_k, w_v, feature_names=None,
                       start=(0, "it")):
    """Pick a sentence and a query word; see its scaled scores, weights and output (notebook 03)."""
    import ipywidgets as widgets

    from helpers.plots import plot_query_attention

    sentence_box = widgets.Dropdown(options=[(" ".join(ws), i) for i, ws in enumerate(words_by_sentence)],
                                    value=start[0], description="sentence", layout={"width": "95%"})
    word_options = lambda s: [(f"{i}: {w}", i) for i, w in enumerate(words_by_sentence[s])]
    word_box = widgets.Dropdown(options=word_options(start[0]), description="query word",
                                value=words_by_sentence[start[0]].index(start[1]))
    picture = widgets.Image(format="png")

    def redraw(_=None):
        sentence, query_index = sentence_box.value, word_box.value
        result = query_attention(inputs_by_sentence[sentence], w_q, w_k, w_v, query_index)
        picture.value = figure_png(lambda: plot_query_attention(
            words_by_sentence[sentence], result, query_index, feature_names))

    def new_sentence(change):  # keep the same position when the sentence changes
        position = min(word_box.value, len(words_by_sentence[change["new"]]) - 1)
        word_box.unobserve(redraw, names="value")
        word_box.options = word_options(change["new"])
        word_box.value = position
        word_box.observe(redraw, names="value")
        redraw()

    sentence_box.observe(new_sentence, names="value")
    word_box.observe(redraw, names="value")
    redraw()
    return widgets.VBox([sentence_box, word_box, picture])


# ====================================================================== 04_softmax_and_scaling: d_k and temperature

def softmax_state(d_k=64, temperature=1.0, scaled=True, n_keys=10, seed=0):
    """One query against n_keys random keys: the scores, their softmax and its gradient (Jacobian).

    q and the keys have d_k independent standard-normal entries, so each score q . k has variance
    d_k. Scores are divided by sqrt(d_k) when `scaled`, then by `temperature`, then softmaxed.
    Returns a dict: scores (n_keys,) as fed to softmax, weights (n_keys,), jacobian
    (n_keys, n_keys) = d weights / d scores = diag(p) - p p^T (softmax's own), gradient_q
    (n_keys, d_k) = d weights / d q = jacobian @ keys / (sqrt(d_k) if scaled else 1) / temperature
    (the whole Jacobian of the weights with respect to the query), gradient_size (its Frobenius
    norm), max_weight and entropy (in nats). Used in notebook 04. gradient_size is not the number of
    notebook 04's measurement 3 (there: the gradient of one random loss, median over 400 queries
    with 16 keys): the two follow the same trend with d_k and the scaling, on different scales.
    """
    from helpers.attention import softmax

    if temperature <= 0:
        raise ValueError(f"temperature must be positive, got {temperature}")
    rng = np.random.default_rng(seed)
    query, keys = rng.normal(size=d_k), rng.normal(size=(n_keys, d_k))   # (d_k,), (n_keys, d_k)
    divide_by = (np.sqrt(d_k) if scaled else 1.0) * temperature
    scores = keys @ query / divide_by                                      # (n_keys,)
    weights = softmax(scores)
    jacobian = np.diag(weights) - np.outer(weights, weights)               # (n_keys, n_keys)
    gradient_q = jacobian @ keys / divide_by                               # (n_keys, d_k): chain rule
    entropy = -np.sum(weights * np.log(np.clip(weights, 1e-300, None)))
    return {"scores": scores, "weights": weights, "jacobian": jacobian, "gradient_q": gradient_q,
            "gradient_size": float(np.linalg.norm(gradient_q)), "max_weight": float(weights.max()),
            "entropy": float(entropy)}


def softmax_explorer():
    """Sliders for d_k and the temperature, a box for the sqrt(d_k) scaling (notebook 04)."""
    import ipywidgets as widgets

    from helpers.plots import plot_softmax_state

    d_k = widgets.SelectionSlider(options=[2 ** i for i in range(11)], value=64, description="d_k")
    temperature = widgets.FloatLogSlider(value=1.0, base=10, min=-1, max=1, step=0.05,
                                         description="temperature")
    scaled = widgets.Checkbox(value=True, description="divide by sqrt(d_k)")
    picture = widgets.Image(format="png")

    def redraw(_=None):
        state = softmax_state(d_k.value, temperature.value, scaled.value)
        picture.value = figure_png(lambda: plot_softmax_state(state, d_k.value, temperature.value, scaled.value))

    for control in (d_k, temperature, scaled):
        control.observe(redraw, names="value")
    redraw()
    return widgets.VBox([widgets.HBox([d_k, temperature, scaled]), picture])


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


GRADIENT_NORM_LIMITS = (1e-14, 1e6)   # fixed, so the picture tilts as the slider moves instead of rescaling


def recurrent_scale_explorer(length=40):
    """A slider for the scale of W_hh; draws the gradient norms through time on a log scale."""
    import ipywidgets as widgets
    import matplotlib.pyplot as plt

    from helpers.plots import plot_gradient_norms

    def show(scale):
        norms = gradients_through_time(scale, length)
        plot_gradient_norms({f"RNN, W_hh scale {scale:.2f}": norms["rnn"], "attention": norms["attention"]},
                            ylim=GRADIENT_NORM_LIMITS)
        plt.show()

    slider = widgets.FloatSlider(value=1.0, min=0.5, max=2.5, step=0.05, description="W_hh scale",
                                 continuous_update=False)
    return widgets.interactive(show, scale=slider)



# ====================================================================== 08_what_is_it

def it_sentence_answer(model, agent, verb, obj, clause, voice):
    """Build a sentence from menu choices and ask the trained "it" model about it.

    Returns (explained, summary): `explained` as from helpers.itmodel.explain, and one line such
    as 'the bond was sold by the trader because it was tired -> "it" = trader (right)'.
    """
    from helpers import itdata, itmodel

    sentence = itdata.sentence_from_choices(agent, verb, obj, clause, voice)
    explained = itmodel.explain(model, sentence)
    verdict = "right" if explained["answer"] == sentence.referent else f"wrong: it is the {sentence.referent}"
    return explained, f'{sentence.text} -> "it" = {explained["answer"]} ({verdict})'


def it_text_answer(model, text):
    """Ask the trained "it" model about a typed sentence (helpers.itdata.sentence_from_text reads it;
    an unknown word raises a ValueError that lists the kinds of word the model knows).

    Returns (explained, summary), like it_sentence_answer.
    """
    from helpers import itdata, itmodel

    sentence = itdata.sentence_from_text(text)
    explained = itmodel.explain(model, sentence)
    verdict = "right" if explained["answer"] == sentence.referent else f"wrong: it is the {sentence.referent}"
    return explained, f'{sentence.text} -> "it" = {explained["answer"]} ({verdict})'


def it_sentence_widget(model):
    """A text box to type a sentence, and menus (agent, verb, object, clause, voice) that write one
    into it; shows the answer and the attention from "it", or why the sentence cannot be read."""
    import ipywidgets as widgets
    import matplotlib.pyplot as plt

    from helpers import itdata, plots
    from helpers.text import SENTENCE_PERSON

    text = widgets.Text(value=SENTENCE_PERSON, description="sentence", continuous_update=False,
                        layout=widgets.Layout(width="95%"))
    menus = dict(agent=itdata.AGENTS, verb=itdata.VERBS, obj=itdata.OBJECTS, clause=itdata.CLAUSES,
                 voice=itdata.VOICES)
    controls = {name: widgets.Dropdown(options=options, description=name) for name, options in menus.items()}
    controls["clause"].value = "was trained to do so"

    def build(_change):
        text.value = itdata.sentence_from_choices(**{n: c.value for n, c in controls.items()}).text

    for control in controls.values():
        control.observe(build, names="value")

    def show(sentence_text):
        try:
            explained, summary = it_text_answer(model, sentence_text)
        except ValueError as error:
            print(error)
            return
        print(summary)
        plots.it_attention(explained, title='attention from "it" (the answer framed in red)')
        plt.show()

    output = widgets.interactive_output(show, {"sentence_text": text})
    return widgets.VBox([text, widgets.HBox(list(controls.values())[:3]),
                         widgets.HBox(list(controls.values())[3:]), output])


# ====================================================================== 09_gpt_on_gpu

def show_token(token):
    """A token as it reads in a label: a space as '␣', a line break as '⏎'."""
    return token.replace(" ", "␣").replace("\n", "⏎")


def sampling_view(model, tokenizer, prompt, temperature=1.0, top_k=None, n_new=120, n_bars=10, seed=0):
    """What the sampling widget shows: (labels, probabilities of the n_bars likeliest next tokens,
    a sampled continuation of the prompt). Seeded: the same settings give the same text."""
    import torch
    from helpers.model import generate, next_token_probabilities

    device = next(model.parameters()).device
    ids = tokenizer.encode(prompt)
    if not ids:
        raise ValueError(f"the prompt {prompt!r} gives no tokens: give the model at least one token to continue")
    idx = torch.tensor([ids], dtype=torch.long, device=device)                 # (1, T)
    model.eval()
    with torch.no_grad():
        logits = model(idx[:, -model.config.context:])[0][0, -1]          # (V,)
    probs = next_token_probabilities(logits, temperature, top_k).cpu().numpy()   # generate's own rule
    order = np.argsort(-probs)[:n_bars]
    labels = [show_token(tokenizer.decode([int(i)])) for i in order]
    generator = torch.Generator(device=device).manual_seed(seed)
    out = generate(model, idx, n_new, temperature=temperature, top_k=top_k, generator=generator)
    return labels, probs[order], tokenizer.decode(out[0, idx.shape[1]:].tolist())


def sampling_explorer(model, tokenizer, prompt="ROMEO:\n"):
    """Sliders for temperature and top-k: the next-token bars and a sample move with them."""
    import ipywidgets as widgets
    import matplotlib.pyplot as plt
    from helpers.plots import next_token_bars

    def show(temperature, top_k):
        labels, probs, text = sampling_view(model, tokenizer, prompt, temperature, top_k or None)
        next_token_bars(labels, probs, title=f"after {show_token(prompt[-12:])!r}: T={temperature}, top-k={top_k or 'off'}")
        plt.show()
        print(prompt + text)

    return widgets.interactive(
        show,
        temperature=widgets.FloatSlider(value=1.0, min=0.1, max=2.0, step=0.1, description="temperature"),
        top_k=widgets.IntSlider(value=0, min=0, max=len(tokenizer), description="top-k (0 off)"))
