"""``einsum``: numpy's Einstein summation, whose VJP is an einsum too.

Subscripts are numpy's: explicit (``"ij,jk->ik"``) or implicit (``"ij,jk"``: the
labels that appear once, in alphabetical order), ``...`` for broadcast axes, and
repeated labels (``"ii->i"`` is the diagonal, ``"ii"`` the trace). They are first
rewritten with one letter per axis and an explicit output (``...`` becomes letters no
subscript uses). The gradient of operand ``k`` is then the einsum of the output's
gradient with the other operands, giving operand ``k``'s labels:

- a label repeated in operand ``k`` gets a fresh letter, tied to the first by an
  identity matrix: the gradient lands on the diagonal only;
- a label found only in operand ``k`` (summed over inside it) is brought back by a
  vector of ones: every element along it gets the same gradient.

Length-1 axes that broadcast are summed back by the engine. Contractions of two or
more operands over a large index space use numpy's ``optimize`` (pairwise BLAS
products); small ones run numpy's direct loop, which costs less than planning.
"""

from __future__ import annotations

import functools
import math
import string
from collections import Counter
from collections.abc import Sequence
from typing import Any

import numpy as np

from ..optable import op
from ..primitive import Primitive, apply
from ..tensor import Tensor, unwrap

LETTERS = string.ascii_letters

#: The most operands numpy's einsum takes.
MAX_OPERANDS = 63

#: Work of numpy's direct loop (operands times the index space, the product of every
#: label's length) above which planning the contraction order (``optimize``: pairwise
#: BLAS products) costs less than the loop. Measured: a 2-operand 40x40x40 product runs
#: faster in the loop, 64x64x64 planned; a chain of three 16x16 matrices planned.
OPTIMIZE_ABOVE = 2**17


def normalize_subscripts(subscripts: str, ndims: Sequence[int]) -> str:
    """``subscripts`` for operands with ``ndims`` axes, one letter per axis and an
    explicit output: ``"...ij,j"`` for 3-d and 1-d operands gives ``"Aij,j->Ai"``."""
    if not isinstance(subscripts, str):
        raise TypeError(
            f"einsum: subscripts must be a string such as 'ij,jk->ik', got "
            f"{type(subscripts).__name__} (numpy's sublist form is not supported)"
        )
    spec = subscripts.replace(" ", "")
    lhs, arrow, rhs = spec.partition("->")
    terms = lhs.split(",")
    if len(terms) != len(ndims):
        raise ValueError(
            f"einsum: the subscripts {subscripts!r} name {len(terms)} operands, "
            f"{len(ndims)} were given"
        )
    if not set(spec.replace("...", "").replace(",", "").replace("->", "", 1)) <= set(LETTERS):
        raise ValueError(
            f"einsum: subscripts {subscripts!r} may hold only letters, ',', '...' and one '->'"
        )
    spare = [c for c in LETTERS if c not in spec]
    broadcast = [_broadcast_axes(term, ndim, i) for i, (term, ndim) in enumerate(zip(terms, ndims))]
    ellipsis = "".join(spare[: max(broadcast, default=0)])
    terms = [
        t.replace("...", ellipsis[len(ellipsis) - n :] if n else "")
        for t, n in zip(terms, broadcast)
    ]
    if not arrow:  # implicit output: broadcast axes, then the labels used once, sorted
        counts = Counter("".join(terms))
        output = ellipsis + "".join(
            sorted(c for c, n in counts.items() if n == 1 and c not in ellipsis)
        )
    elif "..." in rhs:
        output = rhs.replace("...", ellipsis)
    elif ellipsis:
        raise ValueError(
            f"einsum: the output of {subscripts!r} has no '...' for the broadcast axes "
            f"the operands' '...' stand for"
        )
    else:
        output = rhs
    return ",".join(terms) + "->" + output


def _broadcast_axes(term: str, ndim: int, i: int) -> int:
    """How many axes ``...`` stands for in operand ``i``'s ``term``."""
    named = len(term.replace("...", ""))
    if "..." not in term:
        if named != ndim:
            raise ValueError(
                f"einsum: operand {i} has {ndim} axes, but its subscripts {term!r} name {named}"
            )
        return 0
    if term.count("...") > 1 or named > ndim:
        raise ValueError(f"einsum: operand {i}'s subscripts {term!r} do not fit its {ndim} axes")
    return ndim - named


def _einsum_numpy(subscripts: str, *operands: Any, optimize: Any = None) -> np.ndarray:
    """``np.einsum``; ``optimize=None`` plans the contraction only when it pays."""
    if optimize is None:
        work = len(operands) * _index_space(subscripts, operands)
        optimize = len(operands) > 1 and work > OPTIMIZE_ABOVE
    return np.einsum(subscripts, *operands, optimize=optimize)


def _index_space(subscripts: str, operands: Sequence[Any]) -> int:
    """The number of terms numpy's direct loop visits: the product of every label's length."""
    lengths: dict[str, int] = {}
    for term, operand in zip(subscripts.partition("->")[0].split(","), operands):
        for label, n in zip(term, np.shape(operand)):
            lengths[label] = max(n, lengths.get(label, 1))
    return math.prod(lengths.values())


def _operand_grad(
    k: int, xp: Any, g: Any, out: Any, *operands: Any, subscripts: str, optimize: Any
) -> Any:
    """The gradient of operand ``k``: see the module docstring."""
    lhs, _, output = subscripts.partition("->")
    terms = lhs.split(",")
    spare = iter(c for c in LETTERS if c not in subscripts)
    elsewhere = set(output).union(*(t for j, t in enumerate(terms) if j != k))
    target, extra_terms, extras = [], [], []
    for label, n in zip(terms[k], operands[k].shape):
        if label in target:  # a diagonal: a fresh letter, tied to the first by the identity
            fresh = next(spare)
            extra_terms.append(label + fresh)
            extras.append(np.eye(n, dtype=g.dtype))
            target.append(fresh)
        else:
            target.append(label)
    for label, n in zip(terms[k], operands[k].shape):
        if label not in elsewhere and terms[k].count(label) == 1:  # summed inside operand k
            extra_terms.append(label)
            extras.append(np.ones(n, dtype=g.dtype))
    others = [x for j, x in enumerate(operands) if j != k]
    other_terms = [t for j, t in enumerate(terms) if j != k]
    spec = ",".join([output, *other_terms, *extra_terms]) + "->" + "".join(target)
    return xp.einsum(spec, g, *others, *extras, optimize=optimize)


EINSUM = Primitive(
    "einsum",
    lambda *operands, subscripts, optimize: _einsum_numpy(subscripts, *operands, optimize=optimize),
    vjps=tuple(functools.partial(_operand_grad, k) for k in range(MAX_OPERANDS)),
    doc="Einstein summation;  d/d(operand k) = einsum of g with the other operands",
)


@op(EINSUM, method=False)
def einsum(subscripts: str, *operands: Any, optimize: Any = None) -> Tensor:
    """Einstein summation over ``operands`` as ``np.einsum`` (and ``torch.einsum``):
    ``einsum("ij,jk->ik", a, b)`` is ``a @ b``, ``einsum("ii", a)`` the trace.

    ``optimize`` is numpy's (None: plan the contraction order when the index space is
    large). Every operand is differentiable, to any order.
    """
    if not 0 < len(operands) <= MAX_OPERANDS:
        raise ValueError(f"einsum: takes 1 to {MAX_OPERANDS} operands, got {len(operands)}")
    spec = normalize_subscripts(subscripts, [np.ndim(unwrap(x)) for x in operands])
    return apply(EINSUM, operands, {"subscripts": spec, "optimize": optimize})
