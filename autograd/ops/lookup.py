"""Embedding lookup: rows of a weight matrix picked by integer indices.

``out[..., :] = weight[indices[...], :]``. Its VJP adds each output row's gradient into
the row it came from (repeated indices accumulate); the ``padding_idx`` row gets none,
as in PyTorch. The indices are an input of the node (not a parameter), so a recorded
program reads each call's own indices.

First-order backward sums the rows by sorting the indices once and reducing each run of
equal indices (``np.add.reduceat``), several times faster than ``np.add.at``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..optable import op
from ..primitive import Primitive, apply_binary
from ..tensor import Tensor, unwrap
from .shape import scatter_add


def scatter_rows_numpy(g: np.ndarray, indices: np.ndarray, rows: int) -> np.ndarray:
    """``zeros((rows, *g.shape[indices.ndim:]))`` with ``g[j]`` added into row
    ``indices[j]`` (over all leading positions ``j``); repeated indices accumulate."""
    flat = indices.reshape(-1)
    values = g.reshape(flat.size, -1)
    order = np.argsort(flat, kind="stable")
    ordered = flat[order]
    starts = np.flatnonzero(np.concatenate(([True], ordered[1:] != ordered[:-1])))
    result = np.zeros((rows, values.shape[1]), dtype=g.dtype)
    if flat.size:
        result[ordered[starts]] = np.add.reduceat(values[order], starts, axis=0)
    return result.reshape((rows, *g.shape[indices.ndim :]))


def scatter_rows(g: Any, indices: np.ndarray, rows: int) -> Tensor:
    """:func:`scatter_rows_numpy` as a differentiable op (its VJP gathers the rows)."""
    return scatter_add(g, indices, (rows, *g.shape[indices.ndim :]))


def _embedding_grad(xp: Any, g: Any, out: Any, weight: Any, indices: Any, padding_idx: Any) -> Any:
    grad = xp.scatter_rows(g, indices, weight.shape[0])
    if padding_idx is None:
        return grad
    keep = np.ones((weight.shape[0], 1), dtype=grad.dtype)
    keep[padding_idx] = 0
    return grad * keep


EMBEDDING = Primitive(
    "embedding",
    lambda weight, indices, padding_idx: np.take(weight, indices, axis=0),
    vjps=(_embedding_grad, lambda xp, g, out, weight, indices, padding_idx: None),
    saves=(1,),  # of the weight only its shape is read
    doc="weight[indices];  dweight = rows of g added at indices (none to padding_idx)",
)


@op(EMBEDDING, method=False)
def embedding(indices: Any, weight: Any, padding_idx: int | None = None) -> Tensor:
    """Rows of the ``(num_embeddings, dim)`` ``weight`` at integer ``indices`` (any shape):
    the result has shape ``indices.shape + (dim,)``. The ``padding_idx`` row (negative:
    from the end) receives no gradient."""
    index_array = np.asarray(unwrap(indices))
    shape = np.shape(unwrap(weight))
    if len(shape) != 2:
        raise ValueError(f"embedding: weight must be 2-d (num_embeddings, dim), got {shape}")
    rows = shape[0]
    if index_array.dtype.kind not in "iu":
        raise TypeError(
            f"embedding: indices must be integers, got dtype {index_array.dtype} "
            f"(shape {index_array.shape})"
        )
    if index_array.size and (index_array.min() < 0 or index_array.max() >= rows):
        raise IndexError(
            f"embedding: indices must lie in [0, {rows}) for a weight of shape {shape}, got "
            f"values in [{index_array.min()}, {index_array.max()}] (indices shape "
            f"{index_array.shape})"
        )
    if padding_idx is not None:
        if not -rows <= padding_idx < rows:
            raise ValueError(
                f"embedding: padding_idx {padding_idx} is out of range for {rows} rows"
            )
        padding_idx = int(padding_idx) % rows
    indices = indices if isinstance(indices, Tensor) else index_array  # (a Tensor keeps its name)
    return apply_binary(EMBEDDING, weight, indices, {"padding_idx": padding_idx})
