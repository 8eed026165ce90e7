"""Figures several notebooks draw. Sections follow the notebooks; each names its notebook."""
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
    """Three small heatmaps: a, b, and a + b, with their shapes in the titles (notebook 01)."""
    a, b = np.asarray(a), np.asarray(b)
    total = a + b
    fig, axes = plt.subplots(1, 3, figsize=(8, 2.6), gridspec_kw={"width_ratios": [1.2, 3, 3]})
    for ax, matrix, name in zip(axes, (a, b, total), ("a", "b", "a + b")):
        heatmap(np.atleast_2d(matrix), ax=ax, fmt="{:.0f}", cmap="Blues", vmin=0, vmax=total.max())
        ax.set_title(f"{name}: shape {matrix.shape}")
        ax.set_xticks([])
        ax.set_yticks([])
    fig.tight_layout()
    return fig


# ====================================================================== 02_embeddings


# ====================================================================== 03_attention

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
    """The softmax of one query's scores and its Jacobian, from helpers.widgets.softmax_state (04)."""
    if axes is None:
        _, axes = plt.subplots(1, 2, figsize=(10, 3.4))
    n_keys = len(state["weights"])
    axes[0].bar(np.arange(n_keys), state["weights"], color="tab:blue")
    axes[0].set_ylim(0, 1)
    axes[0].set_xlabel("key")
    how = "q.k / sqrt(d_k)" if scaled else "q.k (unscaled)"
    axes[0].set_title(f"softmax({how} / {temperature:.2g}), d_k={d_k}\n"
                      f"max weight {state['max_weight']:.2f}, entropy {state['entropy']:.2f}", fontsize=10)
    image = axes[1].imshow(state["jacobian"], cmap="RdBu_r", vmin=-0.25, vmax=0.25)
    axes[1].grid(False)
    axes[1].set_xlabel("score moved")
    axes[1].set_ylabel("weight that changes")
    axes[1].set_title(f"gradient d weights / d scores\nsize (Frobenius norm) {state['gradient_size']:.3f}",
                      fontsize=10)
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
    ax.legend(loc="upper center", fontsize=9)
    if title:
        ax.set_title(title, fontsize=11)
    return ax



# ====================================================================== 06_why_transformers

def plot_gradient_norms(norms_by_label, ax=None, title="How much the last output feels each input"):
    """Gradient norms ||d last / d x_t|| against how many steps back input t is, on a log scale."""
    if ax is None:
        _, ax = plt.subplots(figsize=(6.4, 3.6))
    for label, norms in norms_by_label.items():
        norms = np.asarray(norms, dtype=float)
        steps_back = np.arange(len(norms))[::-1]             # the newest input is 0 steps back
        style = "--" if "attention" in label else "-"
        ax.semilogy(steps_back, norms, style, lw=2, label=label)
    ax.set_xlabel("steps between the input and the last output")
    ax.set_ylabel("gradient norm (log scale)")
    ax.set_title(title, fontsize=11)
    ax.legend(fontsize=9)
    return ax


def plot_timings(lengths, seconds_by_label, ax=None, title="Time for one sequence"):
    """Run time against sequence length, log-log, one line per model."""
    if ax is None:
        _, ax = plt.subplots(figsize=(6, 3.6))
    for label, seconds in seconds_by_label.items():
        ax.loglog(lengths, np.asarray(seconds) * 1e3, "o-", lw=2, label=label)
    ax.set_xlabel("sequence length T")
    ax.set_ylabel("milliseconds")
    ax.set_title(title, fontsize=11)
    ax.legend(fontsize=9)
    return ax



# ====================================================================== 08_what_is_it


# ====================================================================== 09_gpt_on_gpu
