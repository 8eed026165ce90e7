"""Figures several notebooks draw. Sections follow the notebooks; each names its notebook."""
import matplotlib.patches as patches
import matplotlib.pyplot as plt
import numpy as np


def heatmap(matrix, row_labels=None, col_labels=None, title=None, ax=None, fmt="{:.2f}",
            cmap="viridis", annotate=True, vmin=None, vmax=None):
    """A labelled heatmap of a 2-D array, values written in the cells when it is small enough.

    Used for score and attention matrices (03, 04, 08) and co-occurrence tables (02).
    """
    matrix = np.asarray(matrix, dtype=float)
    if matrix.ndim != 2:
        raise ValueError(f"heatmap needs a 2-D matrix, got shape {matrix.shape}")
    for labels, size, axis in ((row_labels, matrix.shape[0], "rows"), (col_labels, matrix.shape[1], "columns")):
        if labels is not None and len(labels) != size:
            raise ValueError(f"the matrix {matrix.shape} has {size} {axis} but {len(labels)} {axis[:-1]} labels "
                             "were given (swapped row and column labels? transpose the matrix)")
    if ax is None:
        _, ax = plt.subplots(figsize=(0.55 * matrix.shape[1] + 2.5, 0.45 * matrix.shape[0] + 1.5))
    image = ax.imshow(matrix, cmap=cmap, vmin=vmin, vmax=vmax, aspect="auto")
    ax.grid(False)
    if col_labels is not None:
        ax.set_xticks(range(len(col_labels)), col_labels, rotation=45, ha="right")
    if row_labels is not None:
        ax.set_yticks(range(len(row_labels)), row_labels)
    if annotate and matrix.size <= 400:
        for (i, j), value in np.ndenumerate(matrix):
            red, green, blue, _ = image.cmap(image.norm(value))
            dark = 0.299 * red + 0.587 * green + 0.114 * blue < 0.5  # white text on dark cells
            ax.text(j, i, fmt.format(value), ha="center", va="center", fontsize=8,
                    color="white" if dark else "black")
    if title:
        ax.set_title(title)
    return ax


# ====================================================================== 01_tensors

def broadcast_picture(a, b):
    """a + b as three tables of the result's shape: each input drawn stretched, its own cells
    framed in red and the copies broadcasting adds faded, then the sum (notebook 01)."""
    a, b = np.atleast_2d(a), np.atleast_2d(b)            # a missing axis counts as 1, on the left
    total = a + b
    panels = [(np.broadcast_to(a, total.shape), a, f"a: shape {a.shape}, stretched"),
              (np.broadcast_to(b, total.shape), b, f"b: shape {b.shape}, stretched"),
              (total, total, f"a + b: shape {total.shape}")]
    fig, axes = plt.subplots(1, 3, figsize=(9, 2.6))
    for ax, (matrix, own, title) in zip(axes, panels):
        heatmap(matrix, ax=ax, fmt="{:.0f}", cmap="Blues", vmin=0, vmax=total.max())
        ax.set_aspect("equal")
        ax.set(title=title, xticks=[], yticks=[])
        faded = np.ones(matrix.shape + (4,)) * [1, 1, 1, 0.55]        # white veil over the copies
        faded[: own.shape[0], : own.shape[1], 3] = 0
        ax.imshow(faded, aspect="equal")
        if own is not total:
            ax.add_patch(plt.Rectangle((-0.5, -0.5), own.shape[1], own.shape[0], fill=False, lw=2.5, ec="crimson"))
    for x, sign in [(0.345, "+"), (0.665, "=")]:
        fig.text(x, 0.45, sign, fontsize=20, ha="center", va="center")
    fig.tight_layout(w_pad=3)
    return fig


# ====================================================================== 02_embeddings

def _label_offsets(ax, points, words, fontsize=10):
    """For each word, the label offset (in points) that overlaps the labels and dots placed so far least.

    Tries right-above, right-below, left-above, left-below of its dot, with label boxes estimated
    from the font size (notebook 02's word map).
    """
    ax.autoscale_view()
    dots = ax.transData.transform(points) * 72 / ax.figure.dpi  # (n, 2) in points
    candidates = [(4, 2), (4, -2), (-4, 2), (-4, -2)]
    boxes, offsets = [], []
    for (x, y), word in zip(dots, words):
        width, height = 0.6 * fontsize * len(word), 1.1 * fontsize

        def box(dx, dy):
            left = x + dx if dx > 0 else x + dx - width
            bottom = y + dy if dy > 0 else y + dy - height
            return left, bottom, left + width, bottom + height

        def overlap(a, b):
            return max(0, min(a[2], b[2]) - max(a[0], b[0])) * max(0, min(a[3], b[3]) - max(a[1], b[1]))

        def crowding(candidate):
            mine = box(*candidate)
            return (sum(overlap(mine, other) for other in boxes)
                    + sum(overlap(mine, (px - 3, py - 3, px + 3, py + 3)) for px, py in dots))

        best = min(candidates, key=crowding)  # ties: the first, right-above
        boxes.append(box(*best))
        offsets.append(best)
    return offsets


def word_map(points, words, groups=None, missing=(), ax=None, title="chosen words, flattened to 2-D"):
    """Words as labelled dots on a plane (notebook 02); `groups` (one name per word) colours them."""
    points = np.asarray(points, dtype=float).reshape(-1, 2)
    if ax is None:
        _, ax = plt.subplots(figsize=(6.4, 4.4))
    names = list(groups) if groups is not None else [None] * len(words)
    for group in dict.fromkeys(names):
        chosen = [i for i, name in enumerate(names) if name == group]
        ax.scatter(points[chosen, 0], points[chosen, 1], s=25, label=group)
    for (x, y), word, (dx, dy) in zip(points, words, _label_offsets(ax, points, words)):
        ax.annotate(word, (x, y), xytext=(dx, dy), textcoords="offset points", fontsize=10,
                    ha="left" if dx > 0 else "right", va="bottom" if dy > 0 else "top")
    if groups is not None:
        ax.legend(fontsize=8, loc="best", framealpha=0.6)
    if len(missing):
        ax.text(0.01, 0.01, "no vector: " + ", ".join(missing), transform=ax.transAxes, fontsize=9, color="gray")
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_xlabel("first direction (the words differ most along it)")
    ax.set_ylabel("second direction")
    ax.set_title(title)
    return ax


def neighbour_bars(word, neighbours, ax=None):
    """A word's nearest neighbours as horizontal bars of cosine similarity (notebook 02)."""
    if ax is None:
        _, ax = plt.subplots(figsize=(4.8, 0.3 * len(neighbours) + 1.2))
    names = [name for name, _ in neighbours][::-1]  # best at the top
    ax.barh(names, [similarity for _, similarity in neighbours][::-1], color="tab:blue")
    ax.set_xlim(0, 1)
    ax.set_xlabel("cosine similarity")
    ax.set_title(f"nearest to {word!r}")
    return ax



# ====================================================================== 03_attention

# Notebook 03's flow diagram: (key, label, role, column, row, kind). Rows: 2 = queries, 1 = keys,
# 0 = values; 1.5 sits between the queries and the keys. The kinds are coloured below.
_FLOW_STAGES = [
    ("x", "x", "the words", 0, 1, "data"),
    ("W_q", "W_q", "learned", 1, 2, "learned"),
    ("W_k", "W_k", "learned", 1, 1, "learned"),
    ("W_v", "W_v", "learned", 1, 0, "learned"),
    ("Q", "Q", "questions", 2, 2, "data"),
    ("K", "K", "clues", 2, 1, "data"),
    ("V", "V", "evidence", 2, 0, "data"),
    ("scores", "scores", "Q · Kᵀ", 3, 1.5, "data"),
    ("scale", "÷ √d_k", "scale", 4, 1.5, "step"),
    ("softmax", "softmax", "each row", 5, 1.5, "step"),
    ("weights", "weights", "sum to 1", 6, 1.5, "data"),
    ("weighted", "weights · V", "weighted sum", 7, 0, "step"),
    ("output", "output", "conclusion", 8, 0, "data"),
]
_FLOW_ARROWS = [                    # (from, to) ends on the left side of "to"; (from, to, "top") on its top
    ("x", "W_q"), ("x", "W_k"), ("x", "W_v"), ("W_q", "Q"), ("W_k", "K"), ("W_v", "V"),
    ("Q", "scores"), ("K", "scores"), ("scores", "scale"), ("scale", "softmax"), ("softmax", "weights"),
    ("weights", "weighted", "top"), ("V", "weighted"), ("weighted", "output")]
_FLOW_COLOURS = {"data": "#dbe9f6", "learned": "#fde3c8", "step": "white"}


def flow_shapes(T, D, d_k, d_v):
    """The shape of every stage of attention_flow_diagram for T words of D features (notebook 03)."""
    return {"x": (T, D), "W_q": (D, d_k), "W_k": (D, d_k), "W_v": (D, d_v), "Q": (T, d_k), "K": (T, d_k),
            "V": (T, d_v), "scores": (T, T), "scale": (T, T), "softmax": (T, T), "weights": (T, T),
            "weighted": (T, d_v), "output": (T, d_v)}


def attention_flow_diagram(ax=None, shapes=None):
    """How x becomes Q, K and V, then scores, weights and the output: one head, drawn left to right.

    Blue boxes hold data, orange ones the learned matrices W_q, W_k, W_v, dashed ones a step.
    shapes: None, or {stage: shape} (`flow_shapes(T, D, d_k, d_v)`) to write each shape under its box.
    Notebook 03 draws it before building attention, with the shapes of its example.
    """
    if ax is None:
        ax = plt.figure(figsize=(13.5, 3.3)).add_axes((0, 0, 1, 0.9))   # the boxes fill the width
    step, row_gap, width, height = 2.0, 1.1, 1.6, 0.7             # box centres' spacing, box size
    centre = {key: (column * step, row * row_gap) for key, _, _, column, row, _ in _FLOW_STAGES}
    for key, label, role, _, _, kind in _FLOW_STAGES:
        x, y = centre[key]
        ax.add_patch(patches.FancyBboxPatch(
            (x - width / 2, y - height / 2), width, height, boxstyle="round,pad=0,rounding_size=0.1",
            facecolor=_FLOW_COLOURS[kind], edgecolor="0.35", lw=1.2, ls="--" if kind == "step" else "-"))
        ax.text(x, y + 0.11, label, ha="center", va="center", fontsize=13, fontweight="bold", gid=key)
        ax.text(x, y - 0.17, role, ha="center", va="center", fontsize=10.5, color="0.25")
        if shapes is not None and key in shapes:
            ax.text(x, y - height / 2 - 0.06, str(tuple(shapes[key])), ha="center", va="top",
                    fontsize=10.5, color="tab:red", gid=f"shape {key}")
    for start, end, *side in _FLOW_ARROWS:
        _flow_arrow(ax, centre[start], centre[end], width, height, into_top=side == ["top"])
    ax.set_xlim(-width / 2 - 0.05, centre["output"][0] + width / 2 + 0.05)
    ax.set_ylim(-height / 2 - 0.4, 2 * row_gap + height / 2 + 0.05)
    ax.set_aspect("equal")
    ax.axis("off")
    ax.set_title("One attention head, from the word vectors x to the output", fontsize=12)
    return ax


def _flow_arrow(ax, start, end, width, height, into_top=False):
    """An arrow from a box's right side into the next box's left side (or its top)."""
    (x0, y0), (x1, y1) = start, end
    tail = (x0 + width / 2, y0 + np.clip(y1 - y0, -1, 1) * height / 4)   # leave towards the target
    head = (x1, y1 + height / 2) if into_top else (x1 - width / 2, y1)
    ax.annotate("", xy=head, xytext=tail,
                arrowprops=dict(arrowstyle="-|>", color="0.3", lw=1.4, shrinkA=2, shrinkB=2, mutation_scale=15))


def plot_query_attention(words, result, query_index, feature_names=None, axes=None):
    """One query word in one head: its scaled scores, its weights and its output (notebook 03).

    `result` is the dict of helpers.widgets.query_attention.
    """
    if axes is None:
        _, axes = plt.subplots(1, 3, figsize=(12, 3.4), gridspec_kw={"width_ratios": [3, 3, 2]})
    positions = np.arange(len(words))
    scaled = np.where(np.isfinite(result["scaled"]), result["scaled"], 0.0)
    axes[0].bar(positions, scaled, color="tab:gray")
    axes[0].set_title(f'scores of "{words[query_index]}" / sqrt(d_k)')
    axes[1].bar(positions, result["weights"], color="tab:blue")
    axes[1].set_ylim(0, 1)
    axes[1].set_title("weights (softmax, sum to 1)")
    for ax in axes[:2]:
        ax.set_xticks(positions, words, rotation=60, ha="right")
        ax.get_xticklabels()[query_index].set_fontweight("bold")
    output = result["output"]
    names = feature_names if feature_names is not None else [str(i) for i in range(len(output))]
    axes[2].barh(np.arange(len(output)), output, color="tab:green")
    axes[2].set_yticks(np.arange(len(output)), names)
    axes[2].invert_yaxis()
    axes[2].set_title("output = weights @ V")
    axes[0].figure.tight_layout()
    return axes


# ====================================================================== 04_softmax_and_scaling

def plot_softmax_state(state, d_k, temperature, scaled, axes=None):
    """The softmax of one query's scores and its Jacobian, from helpers.attention.softmax_state (04)."""
    if axes is None:
        _, axes = plt.subplots(1, 2, figsize=(10, 3.4))
    n_keys = len(state["weights"])
    axes[0].bar(np.arange(n_keys), state["weights"], color="tab:blue")
    axes[0].set_ylim(0, 1)
    axes[0].set_xlabel("key")
    how = "scores q·k / √d_k" if scaled else "scores q·k, unscaled"
    axes[0].set_title(f"weights: d_k = {d_k}, {how}, T = {temperature:.2g}\n"
                      f"max weight {state['max_weight']:.2f}, entropy {state['entropy']:.2f}", fontsize=10)
    axes[0].set_xticks(range(n_keys))
    image = axes[1].imshow(state["jacobian"], cmap="RdBu_r", vmin=-0.25, vmax=0.25)
    axes[1].grid(False)
    axes[1].set_xticks(range(n_keys))
    axes[1].set_yticks(range(n_keys))
    axes[1].set_xlabel("score moved")
    axes[1].set_ylabel("weight that changes")
    axes[1].set_title(f"softmax's Jacobian diag(p) − p pᵀ\ngradient reaching q: |d weights / d q| = "
                      f"{state['gradient_size']:.3g}", fontsize=10)
    axes[1].figure.colorbar(image, ax=axes[1], fraction=0.046)
    axes[0].figure.tight_layout()
    return axes


# ====================================================================== 05_backprop

def plot_descent(path, ax=None, title=None):
    """Steps of gradient descent on L(w) = w**2: the parabola, each weight as a dot, arrows between."""
    path = np.asarray(path, dtype=float)
    if ax is None:
        _, ax = plt.subplots(figsize=(6, 3.4))
    finite = path[np.isfinite(path)]
    reach = max(2.0, float(np.abs(finite).max()) * 1.1)
    grid = np.linspace(-reach, reach, 200)
    ax.plot(grid, grid ** 2, color="0.6", lw=1.5, label="L(w) = w²")
    ax.plot(path, path ** 2, "o", color="tab:blue", ms=5, zorder=3)
    for before, after in zip(path[:-1], path[1:]):
        ax.annotate("", xy=(after, after ** 2), xytext=(before, before ** 2),
                    arrowprops=dict(arrowstyle="->", color="tab:blue", lw=1))
    ax.plot(path[:1], path[:1] ** 2, "o", color="tab:orange", ms=8, zorder=4, label="start")
    ax.set_xlabel("weight w")
    ax.set_ylabel("loss L(w)")
    ax.legend(loc="lower left", fontsize=9)  # under the left arm: the paths start on the right
    if title:
        ax.set_title(title, fontsize=11)
    return ax



# ====================================================================== 06_why_transformers

def plot_gradient_norms(norms_by_label, ax=None, title="How much the last output feels each input", ylim=None):
    """Gradient norms ||d last / d x_t|| against how many steps back input t is, on a log scale.

    ylim: fixed (bottom, top) limits, so that pictures for different settings compare (the widget).
    """
    if ax is None:
        _, ax = plt.subplots(figsize=(6.4, 3.6))
    for label, norms in norms_by_label.items():
        norms = np.asarray(norms, dtype=float)
        steps_back = np.arange(len(norms))[::-1]             # the newest input is 0 steps back
        style = "--" if "attention" in label else "-"
        ax.semilogy(steps_back, norms, style, lw=2, label=label)
    if ylim is not None:
        ax.set_ylim(*ylim)
    ax.set_xlabel("steps between the input and the last output")
    ax.set_ylabel("gradient norm (log scale)")
    ax.set_title(title, fontsize=11)
    ax.legend(fontsize=9)
    return ax


def readable_log_ticks(ax, low, high):
    """Label a log-scale y axis at 1-2-5 steps between low and high (in its units), in plain numbers."""
    ticks = [m * 10.0 ** e for e in range(-4, 6) for m in (1, 2, 5) if low / 1.5 <= m * 10.0 ** e <= high * 1.5]
    ax.set_yticks(ticks, [f"{tick:g}" for tick in ticks])
    ax.minorticks_off()


def plot_timings(lengths, seconds_by_label, ax=None, title="Time for one sequence", reference=None):
    """Run time against sequence length, log-log, one line per model (notebook 06).

    reference: optional (label, values), a dotted line scaled to meet the first model's last point.
    """
    if ax is None:
        _, ax = plt.subplots(figsize=(6, 3.6))
    all_ms = []
    for label, seconds in seconds_by_label.items():
        ms = np.asarray(seconds, dtype=float) * 1e3
        ax.loglog(lengths, ms, "o-", lw=2, label=label)
        all_ms.extend(ms)
    if reference is not None:
        label, values = reference
        values = np.asarray(values, dtype=float)
        first_ms = np.asarray(next(iter(seconds_by_label.values())), dtype=float) * 1e3
        ax.loglog(lengths, values / values[-1] * first_ms[-1], ":", color="0.4", label=label)
    ax.set_xticks(lengths, [str(length) for length in lengths])
    readable_log_ticks(ax, min(all_ms), max(all_ms))
    ax.set_xlabel("sequence length T")
    ax.set_ylabel("milliseconds (log scale)")
    ax.set_title(title, fontsize=11)
    ax.legend(fontsize=9)
    return ax



# ====================================================================== 08_what_is_it

def it_heads(explained, where="from_answer", ax=None, title=None):
    """Heatmap of every head's attention (rows: layer and head) over the words of one sentence and
    its prompt (columns), from `helpers.itmodel.explain`. where: "from_answer" (the row of '=',
    whose next word is the answer) or "from_it". The referent's column is framed in red, the
    other noun's in dashed grey."""
    weights = np.array(explained[where])                             # (layers, heads, words)
    n_layers, n_heads, n_words = weights.shape
    words = explained["words"]
    if ax is None:
        _, ax = plt.subplots(figsize=(0.5 * n_words + 1.8, 0.32 * n_layers * n_heads + 1.3))
    labels = [f"L{layer + 1} head {head + 1}" for layer in range(n_layers) for head in range(n_heads)]
    heatmap(weights.reshape(n_layers * n_heads, n_words), labels, words, title=title, ax=ax,
            vmin=0, vmax=1, fmt="{:.1f}")
    for layer in range(1, n_layers):                                 # a line between the layers
        ax.axhline(layer * n_heads - 0.5, color="white", lw=2)
    referent = words.index(explained["referent"])
    ax.add_patch(plt.Rectangle((referent - 0.5, -0.5), 1, n_layers * n_heads, fill=False,
                               edgecolor="red", lw=2.5))
    if explained.get("other") in words:                              # the other noun: dashed grey
        other = words.index(explained["other"])
        ax.add_patch(plt.Rectangle((other - 0.5, -0.5), 1, n_layers * n_heads, fill=False,
                                   edgecolor="0.6", lw=2, ls="--"))
    return ax


def it_heads_pair(explained_pair, titles, where="from_answer"):
    """`it_heads` for two sentences, one above the other (notebook 08's main figures)."""
    width = max(len(e["words"]) for e in explained_pair)
    rows = len(explained_pair[0][where]) * len(explained_pair[0][where][0])
    fig, axes = plt.subplots(len(explained_pair), 1,
                             figsize=(0.5 * width + 1.8, (0.28 * rows + 1.2) * len(explained_pair)))
    for ax, explained, title in zip(np.atleast_1d(axes), explained_pair, titles):
        it_heads(explained, where, ax=ax, title=title)
    fig.tight_layout()
    return fig


# ====================================================================== 09_gpt_on_gpu

def loss_curves(history, ax=None, title="loss while training", baseline=None):
    """Training and validation loss against the step, from train.py's log records (notebook 09).

    baseline: a loss to draw as a dotted line, e.g. ln V for a uniform guess."""
    if ax is None:
        _, ax = plt.subplots(figsize=(6.4, 3.4))
    train = [(r["step"], r["train_loss"]) for r in history if "train_loss" in r]
    val = [(r["step"], r["val_loss"]) for r in history if "val_loss" in r]
    if train:
        ax.plot(*zip(*train), label="training batches", color="tab:blue")
    if val:
        ax.plot(*zip(*val), "o-", label="held-out plays", color="tab:orange")
    if baseline is not None:
        ax.axhline(baseline, color="gray", ls=":", label="uniform guess")
    ax.set_xlabel("step")
    ax.set_ylabel("cross-entropy (nats per token)")
    ax.set_title(title)
    ax.legend()
    return ax


class LiveLossPlot:
    """A callback for helpers.train.train that redraws the loss curves in place as records come in.

    It redraws only on records with a validation loss (or every `every` records), so it stays
    cheap on a CPU. Call `close(final_step, final_val_loss)` at the end: it adds the run's final
    measurement, draws the last frame and returns the history.
    """

    def __init__(self, every=None, baseline=None, title="loss while training"):
        self.history, self.every, self.handle, self.count = [], every, None, 0
        self.baseline, self.title = baseline, title

    def __call__(self, record):
        self.history.append(record)
        self.count += 1
        if "val_loss" not in record and not (self.every and self.count % self.every == 0):
            return
        self._draw(f"{self.title}, step {record['step']}")

    def _draw(self, title):
        from IPython.display import display

        fig, ax = plt.subplots(figsize=(6.4, 3.4))
        loss_curves(self.history, ax=ax, title=title, baseline=self.baseline)
        if self.handle is None:
            self.handle = display(fig, display_id=True)
        else:
            self.handle.update(fig)
        plt.close(fig)

    def close(self, final_step=None, final_val_loss=None):
        if final_val_loss is not None:
            self.history.append({"step": final_step, "val_loss": final_val_loss})
            self._draw(f"{self.title}, step {final_step} (final)")
        return self.history


def next_token_bars(labels, probs, ax=None, title=None):
    """Bars of the likeliest next tokens and their probabilities (notebook 09's sampling widget)."""
    if ax is None:
        _, ax = plt.subplots(figsize=(6.4, 2.8))
    ax.bar(range(len(labels)), probs, color="tab:purple")
    ax.set_xticks(range(len(labels)), labels)
    ax.set_ylim(0, 1)
    ax.set_ylabel("probability")
    if title:
        ax.set_title(title)
    return ax
