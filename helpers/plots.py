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
        middle = np.nanmean(matrix)
        for (i, j), value in np.ndenumerate(matrix):
            ax.text(j, i, fmt.format(value), ha="center", va="center", fontsize=8,
                    color="white" if value < middle else "black")
    if title:
        ax.set_title(title)
    return ax


# ====================================================================== 01_tensors


# ====================================================================== 02_embeddings


# ====================================================================== 03_attention


# ====================================================================== 04_softmax_and_scaling


# ====================================================================== 05_backprop


# ====================================================================== 06_why_transformers


# ====================================================================== 08_what_is_it


# ====================================================================== 09_gpt_on_gpu
