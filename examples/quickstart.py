"""Quickstart: a gradient of a small tensor expression, checked against its closed form."""

import numpy as np

import autograd as ag


def main() -> None:
    x = ag.tensor([0.5, -1.0, 2.0], requires_grad=True)
    y = (ag.tanh(x) * x).sum()  # y = sum_i x_i tanh(x_i)
    y.backward()
    closed_form = np.tanh(x.data) + x.data * (1 - np.tanh(x.data) ** 2)
    print("y            =", y.item())
    print("dy/dx engine =", x.grad.numpy())
    print("closed form  =", closed_form)
    print("max |diff|   =", float(np.max(np.abs(x.grad.numpy() - closed_form))))


if __name__ == "__main__":
    main()
