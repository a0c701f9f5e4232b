"""Note 003's 2-2-1 network of scalars: every partial derivative, engine beside hand formula.

The network, written with 0-d tensors exactly as in the note::

    a1 = w11 x1 + w12 x2 + b1        z1 = f(a1)
    a2 = w21 x1 + w22 x2 + b2        z2 = f(a2)
    ŷ  = w1 z1 + w2 z2 + b           E  = ½ (y − ŷ)²

The chain rule gives, with ``δ = ∂E/∂ŷ = ŷ − y``::

    ∂E/∂w1 = δ z1     ∂E/∂w2 = δ z2     ∂E/∂b = δ
    ∂E/∂w1j = δ w1 f'(a1) xj    ∂E/∂b1 = δ w1 f'(a1)      (j = 1, 2)
    ∂E/∂w2j = δ w2 f'(a2) xj    ∂E/∂b2 = δ w2 f'(a2)

with the note's activation derivatives: sigmoid ``f' = f (1 − f)``, tanh
``f' = 1 − f²``, ReLU ``f' = [a > 0]``, leaky ReLU ``f' = 1 or 0.01``. (The step
function has ``f' = 0`` everywhere, so no gradient reaches the hidden weights:
that is why it cannot be trained.)

The script prints each partial derivative from ``E.backward()`` next to the hand
formula, then takes gradient-descent steps ``w ← w − α ∂E/∂w`` and shows the
error falling, with the first-order Taylor prediction ``E − α ||∇E||²`` that
justifies the step.

Run: ``python examples/scalar_network.py [--activation tanh] [--lr 0.5] [--steps 20]``.
"""

from __future__ import annotations

import argparse
from typing import Any

import autograd as ag

#: name -> (f(a), f'(a) written with f's output z, as in the note)
ACTIVATIONS = {
    "sigmoid": (ag.sigmoid, lambda a, z: z * (1 - z)),
    "tanh": (ag.tanh, lambda a, z: 1 - z * z),
    "relu": (ag.relu, lambda a, z: float(a > 0)),
    "leaky_relu": (ag.leaky_relu, lambda a, z: 1.0 if a > 0 else 0.01),
}

#: the note's starting point: inputs, target and the nine parameters
START = {
    "x1": 0.5, "x2": -1.0, "y": 1.0,
    "w11": 0.3, "w12": -0.8, "b1": 0.1,
    "w21": -0.6, "w22": 0.4, "b2": 0.2,
    "w1": 0.7, "w2": -0.5, "b": 0.05,
}  # fmt: skip
PARAMS = ("w11", "w12", "b1", "w21", "w22", "b2", "w1", "w2", "b")


def forward(p: dict[str, Any], x1: float, x2: float, y: float, f: Any) -> dict[str, Any]:
    """The network on one example; returns every intermediate value (0-d tensors)."""
    a1 = p["w11"] * x1 + p["w12"] * x2 + p["b1"]
    a2 = p["w21"] * x1 + p["w22"] * x2 + p["b2"]
    z1, z2 = f(a1), f(a2)
    y_hat = p["w1"] * z1 + p["w2"] * z2 + p["b"]
    return {"a1": a1, "a2": a2, "z1": z1, "z2": z2, "y_hat": y_hat, "E": 0.5 * (y - y_hat) ** 2}


def hand_partials(
    p: dict[str, float], x1: float, x2: float, y: float, v: dict[str, float], df: Any
) -> dict[str, float]:
    """The note's chain-rule formulas in plain floats (``v``: the forward values)."""
    delta = v["y_hat"] - y  # ∂E/∂ŷ
    g1 = delta * p["w1"] * df(v["a1"], v["z1"])  # ∂E/∂a1
    g2 = delta * p["w2"] * df(v["a2"], v["z2"])  # ∂E/∂a2
    return {
        "w11": g1 * x1, "w12": g1 * x2, "b1": g1,
        "w21": g2 * x1, "w22": g2 * x2, "b2": g2,
        "w1": delta * v["z1"], "w2": delta * v["z2"], "b": delta,
    }  # fmt: skip


def partials(values: dict[str, float], activation: str) -> dict[str, Any]:
    """Engine and hand-formula partial derivatives of ``E`` at ``values`` (a START-like dict)."""
    f, df = ACTIVATIONS[activation]
    x1, x2, y = values["x1"], values["x2"], values["y"]
    params = {name: ag.tensor(float(values[name]), requires_grad=True) for name in PARAMS}
    out = forward(params, x1, x2, y, f)
    out["E"].backward()
    floats = {name: t.item() for name, t in out.items()}
    hand = hand_partials(values, x1, x2, y, floats, df)
    engine = {name: params[name].grad.item() for name in PARAMS}
    return {"E": floats["E"], "y_hat": floats["y_hat"], "engine": engine, "hand": hand}


def taylor_check(
    values: dict[str, float], first: dict[str, Any], activation: str, alpha: float = 1e-4
) -> dict[str, float]:
    """Why gradient descent works: ``E(w − α∇E) = E(w) − α ||∇E||² + O(α²)``.

    Returns the predicted drop ``α ||∇E||²`` and the actual drop after one tiny step.
    """
    grads = first["engine"]
    moved = {**values, **{name: values[name] - alpha * grads[name] for name in PARAMS}}
    predicted = alpha * sum(g * g for g in grads.values())
    actual = first["E"] - partials(moved, activation)["E"]
    return {"alpha": alpha, "predicted_drop": predicted, "actual_drop": actual}


def main(activation: str = "sigmoid", lr: float = 0.5, steps: int = 20) -> dict[str, Any]:
    """Compare every partial derivative, then train by gradient descent; print a report.

    Returns ``engine`` and ``hand`` (name -> ∂E/∂name at the start), ``max_abs_diff``,
    ``losses`` (E before each step and after the last), ``taylor`` (see
    :func:`taylor_check`) and the final ``params``.
    """
    if activation not in ACTIVATIONS:
        raise ValueError(
            f"scalar_network: unknown activation {activation!r}; use one of {sorted(ACTIVATIONS)}"
        )
    values = dict(START)
    first = partials(values, activation)
    diffs = {name: abs(first["engine"][name] - first["hand"][name]) for name in PARAMS}
    x1, x2, y = values["x1"], values["x2"], values["y"]
    print(f"note 003 network, f = {activation}, x = ({x1}, {x2}), y = {y}")
    print(f"ŷ = {first['y_hat']:.6f}   E = ½(y − ŷ)² = {first['E']:.6f}\n")
    print(f"{'':6s}{'engine ∂E/∂w':>18s}{'hand formula':>18s}{'|diff|':>11s}")
    for name in PARAMS:
        print(
            f"{name:6s}{first['engine'][name]:18.12f}{first['hand'][name]:18.12f}"
            f"{diffs[name]:11.1e}"
        )
    taylor = taylor_check(values, first, activation)

    losses = []
    for _ in range(steps):
        step = partials(values, activation)
        losses.append(step["E"])
        for name in PARAMS:
            values[name] -= lr * step["engine"][name]  # w ← w − α ∂E/∂w
    losses.append(partials(values, activation)["E"])
    print(
        f"\ngradient descent, α = {lr}: E = "
        + " → ".join(f"{e:.4g}" for e in losses[:4])
        + f" … {losses[-1]:.3g} after {steps} steps"
    )
    print(
        f"Taylor: a step of α = {taylor['alpha']:g} should lower E by α||∇E||² = "
        f"{taylor['predicted_drop']:.6e}; it lowers it by {taylor['actual_drop']:.6e}"
    )
    return {
        "activation": activation,
        "engine": first["engine"],
        "hand": first["hand"],
        "max_abs_diff": max(diffs.values()),
        "losses": losses,
        "taylor": taylor,
        "params": {name: values[name] for name in PARAMS},
    }


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--activation", choices=sorted(ACTIVATIONS), default="sigmoid")
    parser.add_argument("--lr", type=float, default=0.5, help="learning rate α")
    parser.add_argument("--steps", type=int, default=20, help="gradient-descent steps")
    args = parser.parse_args()
    main(args.activation, args.lr, args.steps)
