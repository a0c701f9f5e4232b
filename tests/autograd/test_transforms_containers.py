"""Functional transforms over containers of tensors (issue 17; JAX's and HIPS
autograd's pytrees): ``flatten``/``unflatten``, then ``grad``, ``value_and_grad``,
``vjp``, ``jvp``, ``jacobian`` and ``hessian`` with tuples, lists, dicts,
namedtuples, OrderedDicts and None, nested. Values against closed forms, finite
differences, and ``torch.func`` when it is installed."""

from __future__ import annotations

from collections import OrderedDict, namedtuple

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import autograd as ag
from autograd.transforms import LEAF, flatten, leaves_like, unflatten

RNG = np.random.default_rng(11)
Point = namedtuple("Point", "x y")


def as_numpy(tree):
    """The same structure with every Tensor leaf as an ndarray."""
    leaves, treedef = flatten(tree)
    return unflatten(treedef, [np.asarray(leaf) for leaf in leaves])


def assert_tree_close(got, want, rtol=1e-13):
    got_leaves, got_def = flatten(got)
    want_leaves, want_def = flatten(want)
    assert got_def == want_def
    for g, w in zip(got_leaves, want_leaves):
        assert isinstance(g, ag.Tensor)
        np.testing.assert_allclose(g.numpy(), w, rtol=rtol, atol=1e-15)


# ------------------------------------------------------------------ flatten / unflatten
TREES = {
    "leaf": np.ones(3),
    "empty tuple": (),
    "empty list": [],
    "empty dict": {},
    "none": None,
    "nested": (RNG.standard_normal(4), [RNG.standard_normal((3, 4)), 2.5], (), (2.0, [1.0, 3.0])),
    "dict": {"k": np.ones((4, 4)), "k2": np.ones((3, 3)), "k3": 3.0, "k4": [1.0, 4.0, 7.0]},
    "namedtuple": Point(1.0, [2.0, {"z": 3.0}]),
    "ordered": OrderedDict([("b", 1.0), ("a", (2.0, None))]),
    "keys": {0: 1.0, (1, 2): 2.0, "s": {"inner": [3.0]}},
}


@pytest.mark.parametrize("tree", TREES.values(), ids=TREES.keys())
def test_flatten_then_unflatten_gives_the_tree_back(tree):
    leaves, treedef = flatten(tree)
    rebuilt = unflatten(treedef, leaves)
    assert flatten(rebuilt)[1] == treedef
    assert all(a is b for a, b in zip(flatten(rebuilt)[0], leaves))
    assert type(rebuilt) is type(tree)


def test_flatten_orders_leaves_depth_first_and_keeps_types():
    tree = {"b": (1, [2, 3]), "a": Point(4, None), "c": OrderedDict(z=5, y=6)}
    leaves, treedef = flatten(tree)
    assert leaves == [1, 2, 3, 4, 5, 6]  # insertion order of dicts, not sorted
    rebuilt = unflatten(treedef, [10 * v for v in leaves])
    assert rebuilt == {"b": (10, [20, 30]), "a": Point(40, None), "c": OrderedDict(z=50, y=60)}
    assert type(rebuilt["a"]) is Point and list(rebuilt["c"]) == ["z", "y"]
    assert flatten(np.ones(2))[1] == LEAF


def test_unflatten_needs_exactly_the_leaves_the_tree_holds():
    _, treedef = flatten((1.0, [2.0]))
    with pytest.raises(ValueError, match="fewer leaves"):
        unflatten(treedef, [1.0])
    with pytest.raises(ValueError, match="more than the 2 leaves"):
        unflatten(treedef, [1.0, 2.0, 3.0])


def test_leaves_like_matches_keys_by_name_and_names_the_first_difference():
    _, treedef = flatten({"a": 1.0, "b": (2.0, 3.0)})
    assert leaves_like(treedef, {"b": [20.0, 30.0], "a": 10.0}, "v") == [10.0, 20.0, 30.0]
    with pytest.raises(ValueError, match=r"v\['b'\] should be a tuple of 2, got a tuple of 1"):
        leaves_like(treedef, {"a": 1.0, "b": (2.0,)}, "v")
    with pytest.raises(ValueError, match=r"v should be a dict with keys \['a', 'b'\]"):
        leaves_like(treedef, {"a": 1.0}, "v")
    _, leaf = flatten(np.ones(2))
    assert leaves_like(leaf, [1.0, 2.0], "v") == [[1.0, 2.0]]  # a leaf takes the value whole


# ------------------------------------------------------------------ grad
def three_arrays():
    return RNG.standard_normal((5, 6)), RNG.standard_normal((4, 3)), RNG.standard_normal((2, 4))


@pytest.mark.parametrize("make", [tuple, list, lambda xs: dict(zip(["a", "b", "c"], xs))])
def test_grad_of_a_container_has_its_structure(make):
    # HIPS autograd's test_getter: one use, two uses, no use
    container = make(three_arrays())
    keys = list(container) if isinstance(container, dict) else [0, 1, 2]

    def f(c):
        return c[keys[0]].sum() + c[keys[1]].sum() + c[keys[1]].sum()

    g = ag.grad(f)(container)
    assert type(g) is type(container)
    for key, fill in zip(keys, [1.0, 2.0, 0.0]):
        np.testing.assert_array_equal(g[key].numpy(), np.full(container[key].shape, fill))


def test_grad_of_a_dict_used_through_items_values_and_keys():
    params = dict(zip(["item_1", "item_2", "item_x"], three_arrays()))

    def f(d):
        total = 0.0
        for i, (_, v) in enumerate(sorted(d.items())):
            total = total + ag.sin(v).sum() * (i + 1.0)
        for v in d.values():
            total = total + ag.cos(v).sum()
        for k in sorted(d.keys()):
            total = total + (d[k] ** 2).sum()
        return total

    g = ag.grad(f)(params)
    for i, k in enumerate(sorted(params)):
        v = params[k]
        np.testing.assert_allclose(
            g[k].numpy(), np.cos(v) * (i + 1) - np.sin(v) + 2 * v, rtol=1e-14
        )


def test_second_order_through_a_container_gradient():
    # HIPS autograd's test_grads: differentiate a function of grad(f)(dict)
    def f(d):
        return ag.sin(d["item_1"]).sum() + ag.cos(d["item_2"]).sum()

    def d_f(a, b, c):
        g = ag.grad(f)({"item_1": a, "item_2": b, "item_x": c})
        return g["item_1"].sum() + ag.sin(g["item_1"]).sum() + ag.sin(g["item_2"]).sum()

    assert ag.gradcheck(d_f, list(three_arrays()))
    a, b, c = three_arrays()
    ga, gb, gc = ag.grad(d_f, argnums=(0, 1, 2))(a, b, c)
    np.testing.assert_allclose(ga.numpy(), -np.sin(a) - np.cos(np.cos(a)) * np.sin(a), rtol=1e-13)
    np.testing.assert_allclose(gb.numpy(), -np.cos(-np.sin(b)) * np.cos(b), rtol=1e-13)
    np.testing.assert_array_equal(gc.numpy(), np.zeros_like(c))


def test_nested_higher_order_with_a_tuple_of_the_same_tensor():
    # HIPS autograd's test_nested_higher_order: grad(y0 y1)((x, x)) = (x, x), so
    # outer(x) = 2 sin(x); its derivatives are 2 cos(x) and -2 sin(x)
    def outer(x):
        return ag.sin(ag.stack(ag.grad(lambda y: y[0] * y[1])((x, x)))).sum()

    x = 0.8
    assert outer(x).item() == pytest.approx(2 * np.sin(x), rel=1e-15)
    assert ag.grad(outer)(x).item() == pytest.approx(2 * np.cos(x), rel=1e-14)
    assert ag.grad(ag.grad(outer))(x).item() == pytest.approx(-2 * np.sin(x), rel=1e-14)
    assert ag.gradcheck(outer, [np.array(x)])


def test_grad_of_nested_containers_namedtuples_and_none():
    params = {
        "layer": Point(np.array([1.0, 2.0]), [3.0, None]),
        "scale": OrderedDict([("b", 0.5), ("a", 2.0)]),
        "unused": None,
    }

    def f(p):
        x, (y, _) = p["layer"]
        return (x**2).sum() * p["scale"]["a"] + y * p["scale"]["b"]

    g = ag.grad(f)(params)
    assert type(g["layer"]) is Point and g["layer"].y[1] is None and g["unused"] is None
    assert list(g["scale"]) == ["b", "a"]
    assert_tree_close(
        g,
        {
            "layer": Point(np.array([4.0, 8.0]), [0.5, None]),
            "scale": OrderedDict([("b", 3.0), ("a", 5.0)]),
            "unused": None,
        },
    )


def test_grad_with_tuple_argnums_over_containers():
    def f(p, scale, xs):
        return (p["w"] * scale).sum() + xs[0] * xs[1] * scale

    w = np.array([1.0, -2.0])
    gp, gxs = ag.grad(f, argnums=(0, 2))({"w": w}, 3.0, [2.0, 5.0])
    assert_tree_close(gp, {"w": np.full(2, 3.0)})
    assert_tree_close(gxs, [15.0, 6.0])
    gs, gp2 = ag.grad(f, argnums=(1, 0))({"w": w}, 3.0, [2.0, 5.0])
    assert gs.item() == w.sum() + 10.0
    assert_tree_close(gp2, gp)


def test_value_and_grad_and_has_aux_over_containers():
    def loss(p):
        pred = p["w"] * 2.0 + p["b"]
        return (pred**2).sum(), {"pred": pred, "note": "aux passes through"}

    params = {"w": np.array([1.0, 2.0]), "b": 0.5}
    (value, aux), g = ag.value_and_grad(loss, has_aux=True)(params)
    assert value.item() == pytest.approx(2.5**2 + 4.5**2)
    assert aux["note"] == "aux passes through" and not aux["pred"].requires_grad
    np.testing.assert_array_equal(aux["pred"].numpy(), [2.5, 4.5])
    assert_tree_close(g, {"w": np.array([10.0, 18.0]), "b": 14.0})
    g2, aux2 = ag.grad(loss, has_aux=True)(params)
    assert_tree_close(g2, g)
    np.testing.assert_array_equal(aux2["pred"].numpy(), [2.5, 4.5])
    with pytest.raises(TypeError, match="has_aux=True requires f to return a pair"):
        ag.grad(lambda p: p["b"], has_aux=True)(params)


def test_grad_of_a_container_valued_function_is_a_type_error_naming_has_aux():
    with pytest.raises(TypeError, match="one scalar; it returned a tuple of 2.*has_aux=True"):
        ag.grad(lambda x: (x * 2, x * 3))(1.0)


def test_non_float_leaves_in_a_differentiated_container_are_named():
    with pytest.raises(TypeError, match=r"argument 0\['steps'\] has dtype int64"):
        ag.grad(lambda p: p["w"] * p["steps"])({"w": 1.0, "steps": 3})
    with pytest.raises(TypeError, match=r"argument 0\[1\] is a str"):
        ag.grad(lambda p: p[0])((1.0, "text"))


def test_an_empty_container_has_an_empty_gradient():
    assert ag.grad(lambda p, x: x * 2.0, argnums=0)({}, 1.0) == {}
    assert ag.grad(lambda p: ag.tensor(1.0))([]) == []


def test_the_same_array_at_two_positions_is_two_inputs():
    x = np.array([2.0, 3.0])
    ga, gb = ag.grad(lambda p: (p[0] * p[1] ** 2).sum())((x, x))
    np.testing.assert_array_equal(ga.numpy(), x**2)
    np.testing.assert_array_equal(gb.numpy(), 2 * x * x)


def test_container_gradients_keep_float32():
    params = {"w": np.ones(3, np.float32), "b": [np.float32(1.0)]}
    g = ag.grad(lambda p: (p["w"] * 3).sum() + p["b"][0] * 2)(params)
    assert g["w"].dtype == np.float32 and g["b"][0].dtype == np.float32


# ------------------------------------------------------------------ vjp and jvp
def test_vjp_of_a_tuple_valued_function_takes_a_tuple_cotangent():
    def f(x, y):
        return x * y, ag.sin(x) + y

    x, y = np.array([0.5, -1.0]), np.array([2.0, 0.3])
    (p, s), vjp_fn = ag.vjp(f, x, y)
    np.testing.assert_allclose(s.numpy(), np.sin(x) + y)
    u, w = np.array([1.0, -2.0]), np.array([0.5, 4.0])
    gx, gy = vjp_fn((u, w))
    np.testing.assert_allclose(gx.numpy(), u * y + w * np.cos(x), rtol=1e-15)
    np.testing.assert_allclose(gy.numpy(), u * x + w, rtol=1e-15)
    gx_list, _ = vjp_fn([u, w])  # a list stands for the tuple
    np.testing.assert_array_equal(gx_list.numpy(), gx.numpy())
    with pytest.raises(ValueError, match="the cotangent should be a tuple of 2, got an array"):
        vjp_fn(u)
    with pytest.raises(ValueError, match=r"vjp_fn: the cotangent\[1\] has shape \(3,\)"):
        vjp_fn((u, np.ones(3)))


def test_vjp_with_container_primals_and_a_dict_output():
    def f(p, xs):
        return {"sum": p["w"].sum() * xs[0], "prod": p["w"] * xs[1]}

    p, xs = {"w": np.array([1.0, 2.0, 3.0])}, [2.0, -1.0]
    out, vjp_fn = ag.vjp(f, p, xs)
    assert set(out) == {"sum", "prod"}
    gp, gxs = vjp_fn({"prod": np.array([1.0, 0.0, 2.0]), "sum": 3.0})  # any key order
    assert_tree_close(gp, {"w": 3.0 * 2.0 + np.array([1.0, 0.0, 2.0]) * -1.0})
    assert_tree_close(gxs, [3.0 * 6.0, 1.0 + 6.0])


def test_vjp_against_the_jacobian_of_a_tuple_output():
    def f(x):
        return ag.tanh(x) * x, (x**2).sum()

    x = RNG.standard_normal(4)
    (j0, j1) = ag.jacobian(f)(x)
    v0, v1 = RNG.standard_normal(4), 1.7
    (g,) = ag.vjp(f, x)[1]((v0, v1))
    np.testing.assert_allclose(g.numpy(), v0 @ j0.numpy() + v1 * j1.numpy(), rtol=1e-13)


def test_jvp_with_container_primals_tangents_and_outputs():
    def f(p):
        return [p["a"] * 2, {"ab": p["a"] * p["b"]}]

    out, tangent = ag.jvp(f, ({"a": 1.5, "b": 2.0},), ({"b": 1.0, "a": 0.5},))
    assert_tree_close(out, [3.0, {"ab": 3.0}])
    assert_tree_close(tangent, [1.0, {"ab": 0.5 * 2.0 + 1.5 * 1.0}])
    with pytest.raises(ValueError, match=r"jvp: tangent 0 should be a dict with keys \['a', 'b'\]"):
        ag.jvp(f, ({"a": 1.5, "b": 2.0},), ({"a": 1.0},))
    with pytest.raises(ValueError, match=r"jvp: tangent 0\['a'\] has shape \(2,\), primal \(\)"):
        ag.jvp(f, ({"a": 1.5, "b": 2.0},), ({"a": np.ones(2), "b": 1.0},))


def test_jvp_against_the_jacobian_for_several_primals_and_outputs():
    def f(x, pair):
        return ag.sin(x) * pair[0], (x * pair[1]).sum()

    x, a, b = RNG.standard_normal(3), RNG.standard_normal(3), RNG.standard_normal(3)
    tx, ta, tb = RNG.standard_normal(3), RNG.standard_normal(3), RNG.standard_normal(3)
    _, (t0, t1) = ag.jvp(f, (x, (a, b)), (tx, (ta, tb)))
    (jx0, (ja0, jb0)), (jx1, (ja1, jb1)) = ag.jacobian(f, argnums=(0, 1))(x, (a, b))
    np.testing.assert_allclose(t0.numpy(), jx0.numpy() @ tx + ja0.numpy() @ ta, rtol=1e-13)
    expected = jx1.numpy() @ tx + jb1.numpy() @ tb
    assert t1.item() == pytest.approx(float(expected), rel=1e-13)
    np.testing.assert_array_equal(jb0.numpy(), np.zeros((3, 3)))
    np.testing.assert_array_equal(ja1.numpy(), np.zeros(3))


# ------------------------------------------------------------------ jacobian and hessian
def test_jacobian_of_a_dict_valued_function_has_the_output_structure():
    x = np.array([1.0, 2.0, 3.0])
    jac = ag.jacobian(lambda v: {"sum": v.sum(), "square": v**2, "pair": (v[0], v[1] * v[2])})(x)
    assert_tree_close(
        jac,
        {
            "sum": np.ones(3),
            "square": np.diag(2 * x),
            "pair": (np.array([1.0, 0.0, 0.0]), np.array([0.0, 3.0, 2.0])),
        },
    )


def test_jacobian_of_dict_in_dict_out_is_indexed_out_then_in():
    def f(p):
        return {"y": p["w"] @ p["x"], "n": (p["x"] ** 2).sum()}

    w, x = RNG.standard_normal((2, 3)), RNG.standard_normal(3)
    jac = ag.jacobian(f)({"w": w, "x": x})
    assert jac["y"]["w"].shape == (2, 2, 3) and jac["y"]["x"].shape == (2, 3)
    np.testing.assert_allclose(jac["y"]["x"].numpy(), w, rtol=1e-15)
    np.testing.assert_allclose(
        jac["y"]["w"].numpy(), np.einsum("ij,k->ijk", np.eye(2), x), rtol=1e-15
    )
    np.testing.assert_allclose(jac["n"]["x"].numpy(), 2 * x, rtol=1e-15)
    np.testing.assert_array_equal(jac["n"]["w"].numpy(), np.zeros((2, 3)))


def test_jacobian_of_stacked_scalar_functions_equals_their_stacked_grads():
    # HIPS autograd's test_jacobian_against_stacked_grads, with a tuple output
    scalar_funs = [
        lambda x: (x**3).sum(),
        lambda x: ag.exp(ag.sin(x) + ag.sin(x)).sum(),
        lambda x: ag.grad(lambda y: ag.exp(y) * ag.tanh(x[0]))(x[1]),
    ]
    x = RNG.standard_normal(5)
    jac = ag.jacobian(lambda v: tuple(f(v) for f in scalar_funs))(x)
    for j, f in zip(jac, scalar_funs):
        np.testing.assert_allclose(j.numpy(), ag.grad(f)(x).numpy(), rtol=1e-13)


def test_hessian_of_a_dict_is_a_dict_of_dicts():
    def f(p):
        return (p["a"] ** 2 * p["b"]).sum() + ag.sin(p["b"]).sum()

    a, b = np.array([1.0, -2.0]), np.array([0.5, 3.0])
    h = ag.hessian(f)({"a": a, "b": b})
    assert_tree_close(
        h,
        {
            "a": {"a": np.diag(2 * b), "b": np.diag(2 * a)},
            "b": {"a": np.diag(2 * a), "b": np.diag(-np.sin(b))},
        },
    )
    both = ag.jacobian(ag.jacobian(f))({"a": a, "b": b})
    assert_tree_close(h, as_numpy(both))


def test_hessian_with_tuple_argnums_of_containers():
    # as JAX: the gradient's structure (one tree per argument), then at each leaf the
    # arguments' structure again: h[i][leaf of argument i][j][leaf of argument j]
    def f(p, q):
        return p[0] * q["z"] ** 2 + p[1] * p[0]  # grad: (z^2 + p1, p0), {z: 2 p0 z}

    h = ag.hessian(f, argnums=(0, 1))((2.0, 3.0), {"z": 0.5})
    expected = (
        (((0.0, 1.0), {"z": 1.0}), ((1.0, 0.0), {"z": 0.0})),
        {"z": ((1.0, 0.0), {"z": 4.0})},
    )
    assert_tree_close(h, expected)


# ------------------------------------------------------------------ against torch.func
def test_container_transforms_match_torch_func():
    torch = pytest.importorskip("torch")
    from torch import func

    w, b, x = RNG.standard_normal((3, 2)), RNG.standard_normal(2), RNG.standard_normal((4, 3))

    def ag_loss(p):
        return (ag.tanh(x @ p["w"] + p["b"]) ** 2).mean()

    def torch_loss(p):
        return (torch.tanh(torch.tensor(x) @ p["w"] + p["b"]) ** 2).mean()

    params = {"w": w, "b": b}
    tparams = {k: torch.tensor(v) for k, v in params.items()}
    assert_tree_close(
        ag.grad(ag_loss)(params),
        {k: v.numpy() for k, v in func.grad(torch_loss)(tparams).items()},
    )
    th = func.hessian(torch_loss)(tparams)
    assert_tree_close(
        ag.hessian(ag_loss)(params),
        {k: {j: v.numpy() for j, v in row.items()} for k, row in th.items()},
        rtol=1e-12,
    )

    def ag_pair(v):
        return ag.sin(v) * v, {"n": (v**2).sum()}

    def torch_pair(v):
        return torch.sin(v) * v, {"n": (v**2).sum()}

    v0, u0 = RNG.standard_normal(3), RNG.standard_normal(3)
    _, ag_fn = ag.vjp(ag_pair, v0)
    _, torch_fn = func.vjp(torch_pair, torch.tensor(v0))
    cot = (u0, {"n": 0.7})
    expected = torch_fn((torch.tensor(u0), {"n": torch.tensor(0.7, dtype=torch.float64)}))
    assert_tree_close(ag_fn(cot), tuple(e.numpy() for e in expected))
    _, t_out = func.jvp(torch_pair, (torch.tensor(v0),), (torch.tensor(u0),))
    _, a_out = ag.jvp(ag_pair, (v0,), (u0,))
    assert_tree_close(a_out, (t_out[0].numpy(), {"n": t_out[1]["n"].numpy()}))
    jac = func.jacrev(torch_pair)(torch.tensor(v0))
    assert_tree_close(ag.jacobian(ag_pair)(v0), (jac[0].numpy(), {"n": jac[1]["n"].numpy()}))


# ------------------------------------------------------------------ property
leaf_arrays = st.integers(0, 3).map(lambda n: np.arange(1.0, n + 2.0) / 3.0)
trees = st.recursive(
    leaf_arrays,
    lambda children: st.one_of(
        st.lists(children, max_size=3),
        st.tuples(children, children),
        st.dictionaries(st.sampled_from("abcd"), children, max_size=3),
    ),
    max_leaves=6,
)


@settings(max_examples=40, deadline=None)
@given(trees)
def test_grad_of_any_tree_is_the_tree_of_leafwise_gradients(tree):
    leaves, treedef = flatten(tree)

    def f(t):
        return sum(((leaf**3).sum() * (k + 1) for k, leaf in enumerate(flatten(t)[0])), 0.0)

    g = ag.grad(f)(tree)
    assert flatten(g)[1] == treedef
    for k, (gleaf, leaf) in enumerate(zip(flatten(g)[0], leaves)):
        np.testing.assert_allclose(gleaf.numpy(), 3 * leaf**2 * (k + 1), rtol=1e-14)


def test_a_dict_of_tensors_that_require_grad_is_differentiated_and_stays_connected(recwarn):
    # what nn.functional_call users pass: dict(model.named_parameters())
    w = ag.tensor(np.array([[1.0, 2.0], [0.5, -1.0]]), requires_grad=True)
    b = ag.tensor(np.array([0.1, -0.2]), requires_grad=True)
    x = np.array([0.3, -0.4])

    def loss(p):
        return (ag.tanh(x @ p["w"] + p["b"]) ** 2).sum()

    h = ag.hessian(loss)({"w": w, "b": b})
    plain = ag.hessian(loss)({"w": w.numpy(), "b": b.numpy()})
    assert_tree_close(h, as_numpy(plain))
    assert h["b"]["b"].requires_grad  # connected to w and b, as any function of them
    g = ag.grad(loss)({"w": w, "b": b})
    (g["b"] ** 2).sum().backward()  # a penalty on the gradient reaches the parameters
    t = np.tanh(x @ w.numpy() + b.numpy())
    s = 1 - t**2  # g_b = 2 t s, and d(2 t s)/dz = 2 s (s - 2 t^2)
    np.testing.assert_allclose(b.grad.numpy(), 2 * (2 * t * s) * 2 * s * (s - 2 * t**2), rtol=1e-13)
    np.testing.assert_allclose(w.grad.numpy(), np.outer(x, b.grad.numpy()), rtol=1e-13)
    assert not [r for r in recwarn if issubclass(r.category, ag.ClosureWarning)]
