"""Randomness: the one default generator behind every ``rng=None``, and ``manual_seed``.

Every function and layer of both packages that draws random numbers takes ``rng``: a
``numpy.random.Generator``, an int seed (a fresh generator from that seed), or None,
which means the default generator returned by :func:`default_rng`. ``manual_seed(s)``
reseeds that generator in place (objects that already hold it, such as a ``Dropout``
layer, see the new seed too), so a script that calls it once is reproducible, as with
``torch.manual_seed``. Its draws equal ``np.random.default_rng(s)``'s.

Random numbers drawn by an operation (``ag.randn``, a dropout mask) come from
:func:`draw`, the one call a compiled function records to draw them afresh at each call.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .mode import state, tracing_threads

Rng = np.random.Generator | int | None

_DEFAULT = np.random.default_rng()


def default_rng() -> np.random.Generator:
    """The generator every ``rng=None`` draws from (reseed it with :func:`manual_seed`)."""
    return _DEFAULT


def manual_seed(seed: int) -> np.random.Generator:
    """Reseed the default generator in place with ``seed``; returns it."""
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"manual_seed: seed must be a non-negative int, got {seed!r}")
    _DEFAULT.bit_generator.state = np.random.PCG64(int(seed)).state
    return _DEFAULT


def as_rng(rng: Rng) -> np.random.Generator:
    """A Generator from a Generator (itself), an int seed (a new one), or None (the default)."""
    if isinstance(rng, np.random.Generator):
        return rng
    if rng is None:
        return _DEFAULT
    if isinstance(rng, bool) or not isinstance(rng, (int, np.integer)):
        raise TypeError(
            f"rng must be a numpy.random.Generator, an int seed or None, got {type(rng).__name__}"
        )
    return np.random.default_rng(rng)


def draw(rng: Rng, method: str, *args: Any, dtype: Any = None) -> np.ndarray:
    """``as_rng(rng).<method>(*args)`` (e.g. ``draw(rng, "random", (2, 3))``), cast to
    ``dtype`` if given: the one way ops draw random numbers.

    A compiled function (``ag.compile``) records the call, so each of its calls draws new
    numbers from the same generator, in the same order as eager calls would.
    """
    if tracing_threads and state.tracer is not None:
        return state.tracer.call(draw, (rng, method, *args), {"dtype": dtype})
    values = getattr(as_rng(rng), method)(*args)
    return values if dtype is None else values.astype(dtype, copy=False)
