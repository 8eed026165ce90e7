"""The interactive pieces of the notebooks: the builders that wire ipywidgets controls to a figure.

Each widget has two halves. The plain function that computes what it shows lives in the module of
its stage, with its tests there (notebook 01: helpers.tensors.broadcast_result; 02: embeddings'
neighbour_table and word_map_points; 03 and 04: attention's query_attention and softmax_state;
05: backprop's descent_path; 06: rnn's gradients_through_time); the notebook draws it once as a
static figure, so it reads without a live kernel. This module holds the other half, the builder.
Those functions are imported here too, so `helpers.widgets.softmax_state` keeps working.
Sections follow the notebooks; each names the notebook that uses it.
"""
import io

import ipywidgets as widgets
import matplotlib.pyplot as plt
import numpy as np
import torch

# The computations behind the widgets; notebooks also reach them here (helpers.widgets.softmax_state).
from helpers.attention import query_attention, softmax_state  # noqa: F401
from helpers.backprop import descent_path, descent_regime  # noqa: F401
from helpers.embeddings import neighbour_table, word_map_points  # noqa: F401
from helpers.model import generate, next_token_probabilities
from helpers.plots import (next_token_bars, plot_descent, plot_gradient_norms, plot_query_attention,
                           plot_softmax_state, word_map)
from helpers.rnn import gradients_through_time  # noqa: F401
from helpers.tensors import broadcast_result, parse_shape, shape_playground_text  # noqa: F401
from helpers import itdata, itmodel, plots
from helpers.text import SENTENCE_PERSON


# ====================================================================== 01_tensors: shape playground

def shape_playground():
    """Two text boxes for shapes; shows the broadcast result or explains the clash."""
    box_a = widgets.Text(value="2, 1, 4", description="shape a")
    box_b = widgets.Text(value="3, 1", description="shape b")
    return widgets.interactive(lambda a, b: print(shape_playground_text(a, b)), a=box_a, b=box_b)


# ====================================================================== 02_embeddings

def neighbour_explorer(word_vectors, start="king", k=8):
    """Type or pick a word, see its nearest neighbours (notebook 02)."""
    box = widgets.Combobox(value=start, options=list(word_vectors.vocab[:2000]), ensure_option=False,
                           description="word", placeholder="type a word")
    count = widgets.IntSlider(value=k, min=1, max=20, description="neighbours")
    return widgets.interactive(lambda word, k: print(neighbour_table(word_vectors, word, k)), word=box, k=count)


def word_map_explorer(word_vectors, words):
    """Edit a comma-separated list of words and see them on a 2-D map (notebook 02)."""
    box = widgets.Textarea(value=", ".join(words), description="words", layout={"width": "95%"})

    def show(text):
        points, kept, missing = word_map_points(word_vectors, text.split(","))
        word_map(points, kept, missing=missing)
        plt.show()

    return widgets.interactive(show, text=box)


# ====================================================================== 03_attention: query explorer

def figure_png(draw):
    """Run draw() (it makes a matplotlib figure), return the figure as PNG bytes and close it.

    The widgets of notebooks 03 and 04 show their figure as an image widget, so nothing is
    printed or displayed while they update (the same in JupyterLab, nbconvert and nbval).
    """
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

def softmax_explorer():
    """Sliders for d_k and the temperature, a box for the sqrt(d_k) scaling (notebook 04)."""
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

def learning_rate_stepper(start=1.5):
    """A learning-rate slider and a step slider; draws the path of descent on L(w) = w**2."""
    def show(learning_rate, steps):
        path = descent_path(learning_rate, start, steps)
        plot_descent(path, title=f"learning rate {learning_rate:.2f}: {descent_regime(learning_rate).split(':')[0]}")
        plt.show()

    rate = widgets.FloatSlider(value=0.1, min=0.02, max=1.1, step=0.02, description="learning rate",
                               continuous_update=False)
    steps = widgets.IntSlider(value=5, min=0, max=15, description="steps")
    return widgets.interactive(show, learning_rate=rate, steps=steps)


# ====================================================================== 06_why_transformers: recurrent scale

GRADIENT_NORM_LIMITS = (1e-14, 1e6)   # fixed, so the picture tilts as the slider moves instead of rescaling


def recurrent_scale_explorer(length=40):
    """A slider for the scale of W_hh; draws the gradient norms through time on a log scale."""
    def show(scale):
        norms = gradients_through_time(scale, length)
        plot_gradient_norms({f"RNN, W_hh scale {scale:.2f}": norms["rnn"], "attention": norms["attention"]},
                            ylim=GRADIENT_NORM_LIMITS)
        plt.show()

    slider = widgets.FloatSlider(value=1.0, min=0.5, max=2.5, step=0.05, description="W_hh scale",
                                 continuous_update=False)
    return widgets.interactive(show, scale=slider)


# ====================================================================== 08_what_is_it

def _it_summary(model, sentence):
    explained = itmodel.explain(model, sentence)
    verdict = "right" if explained["answer"] == sentence.referent else f"wrong: it is the {sentence.referent}"
    line = f'{sentence.text} -> "it" = {explained["answer"]} (p = {explained["probability"]:.2f}, {verdict})'
    return explained, line


def it_sentence_answer(model, agent, verb, obj, clause, voice):
    """Build a sentence from menu choices and ask notebook 08's trained model about it.

    Returns (explained, summary): `explained` as from helpers.itmodel.explain, and one line such
    as 'the bond was sold by the trader because it was tired -> "it" = trader (p = 0.99, right)'.
    """
    return _it_summary(model, itdata.sentence_from_choices(agent, verb, obj, clause, voice))


def it_text_answer(model, text):
    """Ask notebook 08's trained model about a typed sentence (helpers.itdata.sentence_from_text
    reads it; an unknown word raises a ValueError that lists the kinds of word the model knows).

    Returns (explained, summary), like it_sentence_answer.
    """
    return _it_summary(model, itdata.sentence_from_text(text))


def it_sentence_widget(model):
    """A text box to type a sentence, and menus (agent, verb, object, clause, voice) that write one
    into it; shows the answer, its probability and every head's attention from '=', or why the
    sentence cannot be read."""
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
        plots.it_heads(explained, title='attention from "=" (the referent framed in red)')
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
    def show(temperature, top_k):
        labels, probs, text = sampling_view(model, tokenizer, prompt, temperature, top_k or None)
        next_token_bars(labels, probs, title=f"after {show_token(prompt[-12:])!r}: T={temperature}, top-k={top_k or 'off'}")
        plt.show()
        print(prompt + text)

    return widgets.interactive(
        show,
        temperature=widgets.FloatSlider(value=1.0, min=0.1, max=2.0, step=0.1, description="temperature"),
        top_k=widgets.IntSlider(value=0, min=0, max=len(tokenizer), description="top-k (0 off)"))
