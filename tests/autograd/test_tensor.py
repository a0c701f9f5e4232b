"""The Tensor class: construction and dtype rules, attributes, repr, numpy interop,
operators (incl. reflected ones and numpy deferral), comparisons, indexing gradients,
methods, and in-place operations with their version counter."""

from __future__ import annotations

import operator

import numpy as np
import pytest

import autograd as ag

# ------------------------------------------------------------------ construction, dtypes


@pytest.mark.parametrize(
    ("data", "dtype"),
    [
        (1.5, np.float64),
        ([1.0, 2.0], np.float64),
        ([[1, 2]], np.int64),
        (3, np.int64),
        (True, np.bool_),
        (np.ones(2, np.float32), np.float32),
        (np.float32(2.0), np.float32),
        (np.ones(2, np.float16), np.float16),
    ],
)
def test_dtype_follows_numpy(data, dtype):
    assert ag.Tensor(data).dtype == dtype
    assert ag.tensor(data).dtype == dtype


def test_explicit_dtype_converts():
    t = ag.tensor([1, 2], dtype=np.float32)
    assert t.dtype == np.float32 and t.tolist() == [1.0, 2.0]
    assert ag.Tensor(1.0, dtype=np.float32, requires_grad=True).dtype == np.float32


def test_tensor_from_tensor_shares_values():
    a = ag.tensor([1.0, 2.0])
    b = ag.Tensor(a)
    assert b.numpy() is a.numpy() or np.shares_memory(b.numpy(), a.numpy())
    assert not b.requires_grad


@pytest.mark.parametrize("data", [[1, 2], 3, [True, False], np.arange(3, dtype=np.int32)])
def test_requires_grad_on_non_float_raises_type_error(data):
    with pytest.raises(TypeError, match="floating point"):
        ag.tensor(data, requires_grad=True)
    with pytest.raises(TypeError, match="floating point"):
        ag.tensor(data).requires_grad_()


def test_attributes():
    x = ag.tensor(np.arange(6.0).reshape(2, 3), requires_grad=True)
    assert x.shape == (2, 3) and isinstance(x.shape, tuple)
    assert x.ndim == 2 and x.size == 6 and isinstance(x.size, int)
    assert x.dtype == np.float64
    assert x.requires_grad and x.is_leaf and x.grad is None and x.grad_fn is None
    np.testing.assert_array_equal(x.T.numpy(), np.arange(6.0).reshape(2, 3).T)
    y = x * 2
    assert y.requires_grad and not y.is_leaf and y.grad_fn is not None
    s = ag.tensor(2.5)
    assert s.shape == () and s.ndim == 0 and s.size == 1 and s.item() == 2.5


def test_conversions():
    x = ag.tensor([[1.0, 2.0], [3.0, 4.0]])
    assert isinstance(x.numpy(), np.ndarray)
    assert x.tolist() == [[1.0, 2.0], [3.0, 4.0]]
    assert ag.tensor([7.0]).item() == 7.0 and isinstance(ag.tensor([7.0]).item(), float)
    assert float(ag.tensor(2.5)) == 2.5 and int(ag.tensor(3.0)) == 3
    with pytest.raises(ValueError, match=r"only one-element tensors.*\(2, 2\)"):
        x.item()
    assert x.astype(np.float32).dtype == np.float32
    assert len(x) == 2
    np.testing.assert_array_equal([row.numpy() for row in x], x.numpy())
    with pytest.raises(TypeError, match="0-d"):
        len(ag.tensor(1.0))


def test_np_asarray():
    x = ag.tensor([[1.0, 2.0]], requires_grad=True)
    a = np.asarray(x)
    assert isinstance(a, np.ndarray) and a.dtype == np.float64
    np.testing.assert_array_equal(a, [[1.0, 2.0]])
    assert np.asarray(x, dtype=np.float32).dtype == np.float32
    assert np.array(ag.tensor(3.0)) == 3.0
    copy = np.array(x, copy=True)
    copy[0, 0] = 9.0
    assert x.numpy()[0, 0] == 1.0


def test_grad_assignment():
    x = ag.tensor([1.0, 2.0], requires_grad=True)
    (x * x).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [2.0, 4.0])
    x.grad = None
    assert x.grad is None
    x.grad = np.array([5.0, 6.0])
    assert isinstance(x.grad, ag.Tensor) and x.grad.tolist() == [5.0, 6.0]
    with pytest.raises(ValueError, match=r"shape \(3,\).*\(2,\)"):
        x.grad = np.zeros(3)


# ------------------------------------------------------------------ repr


@pytest.mark.parametrize(
    ("make", "text"),
    [
        (lambda: ag.tensor([1.0, 2.0], requires_grad=True), "tensor([1., 2.], requires_grad=True)"),
        (lambda: ag.tensor([1.0, 2.0], requires_grad=True) * 2, "grad_fn=<multiplyBackward>"),
        (lambda: ag.tensor(1.0, dtype=np.float32), "tensor(1., dtype=float32)"),
        (lambda: ag.tensor([1, 2]), "tensor([1, 2])"),
        (lambda: ag.tensor([[0.5, 1.0], [2.0, 3.0]]), "tensor([[0.5, 1. ],\n        [2. , 3. ]])"),
        (lambda: ag.tensor([1.0]) < 2, "tensor([ True])"),
    ],
)
def test_repr(make, text):
    assert text in repr(make())


def test_repr_of_result_names_its_op_and_values():
    y = ag.exp(ag.tensor(0.0, requires_grad=True))
    assert repr(y) == "tensor(1., grad_fn=<expBackward>)"
    y.name = "y"
    assert repr(y) == "tensor(1., grad_fn=<expBackward>, name='y')"
    assert y.grad_fn.name == "y"


# ------------------------------------------------------------------ operators


def _operands(kind: str, value: np.ndarray):
    """The right-hand operand as a Tensor, a Python scalar, an ndarray or a numpy scalar."""
    if kind == "tensor":
        return ag.tensor(value)
    if kind == "ndarray":
        return value
    if kind == "python":
        return float(value.flat[0])
    return np.float64(value.flat[0])


BINARY = [
    (operator.add, lambda a, b: np.ones_like(a), lambda a, b: np.ones_like(b)),
    (operator.sub, lambda a, b: np.ones_like(a), lambda a, b: -np.ones_like(b)),
    (operator.mul, lambda a, b: b, lambda a, b: a),
    (operator.truediv, lambda a, b: 1 / b, lambda a, b: -a / b**2),
    (operator.pow, lambda a, b: b * a ** (b - 1), lambda a, b: a**b * np.log(a)),
]
KINDS = ["tensor", "ndarray", "python", "npscalar"]


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize(("op", "da", "db"), BINARY, ids=lambda f: getattr(f, "__name__", ""))
def test_binary_operator_and_its_reflection(op, da, db, kind):
    a = np.array([0.5, 1.5, 2.0])
    b = np.array([1.25, 0.75, 3.0]) if kind in ("tensor", "ndarray") else np.array([1.25])
    other = _operands(kind, b)
    b_full = np.broadcast_to(b, a.shape)

    x = ag.tensor(a, requires_grad=True)
    left = op(x, other)
    assert isinstance(left, ag.Tensor)
    np.testing.assert_allclose(left.numpy(), op(a, b_full), rtol=1e-15)
    left.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), da(a, b_full), rtol=1e-14)

    x = ag.tensor(a, requires_grad=True)
    right = op(other, x)  # other's reflected path: numpy defers to the Tensor
    assert isinstance(right, ag.Tensor) and right.requires_grad
    np.testing.assert_allclose(right.numpy(), op(b_full, a), rtol=1e-15)
    right.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), db(b_full, a), rtol=1e-14)


NUMBERS = [1.5, -0.1, 3, -0.0, 0.0, np.nan, np.inf, 1e-30]


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64, np.int64])
@pytest.mark.parametrize("op", [operator.add, operator.sub, operator.mul, operator.truediv])
def test_python_number_operands_give_numpys_values_and_dtype(op, dtype):
    # numbers next to float arrays become cached 0-d arrays: results must be bit-identical
    data = np.array([0.5, -2.0, 3.25]).astype(dtype)
    x = ag.tensor(data)
    with np.errstate(all="ignore"):
        for number in NUMBERS:
            pairs = ((op(x, number), op(data, number)), (op(number, x), op(number, data)))
            for got, expected in pairs:
                assert got.dtype == expected.dtype
                np.testing.assert_array_equal(got.numpy(), expected)
                assert np.array_equal(np.signbit(got.numpy()), np.signbit(expected))


def test_python_number_operand_is_saved_once_read_only_and_cache_stays_bounded():
    from autograd import primitive

    x = ag.tensor(np.ones(3, np.float32), requires_grad=True)
    first, second = x * 1.5, x * 1.5
    constant = first.grad_fn.saved[1]
    assert constant is second.grad_fn.saved[1]  # one 0-d array per number and dtype
    assert constant.dtype == np.float32 and constant.shape == () and not constant.flags.writeable
    (first + second).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [3.0, 3.0, 3.0])
    assert x.grad.dtype == np.float32
    for k in range(primitive.NUMBER_CACHE_SIZE + 10):
        x * (k + 0.5)
    assert len(primitive._NUMBER_ARRAYS) <= primitive.NUMBER_CACHE_SIZE


@pytest.mark.parametrize("kind", ["tensor", "ndarray"])
def test_matmul_operator_and_reflection(kind):
    a = np.arange(6.0).reshape(2, 3)
    b = np.arange(12.0).reshape(3, 4) / 10
    w = ag.tensor(b, requires_grad=True)
    out = _operands(kind, a) @ w
    assert isinstance(out, ag.Tensor)
    np.testing.assert_allclose(out.numpy(), a @ b)
    out.sum().backward()
    np.testing.assert_allclose(w.grad.numpy(), a.T @ np.ones((2, 4)))
    x = ag.tensor(a, requires_grad=True)
    (x @ _operands(kind, b)).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), np.ones((2, 4)) @ b.T)


def test_ndarray_plus_tensor_is_a_tensor_in_the_graph():
    x = ag.tensor([1.0, 2.0], requires_grad=True)
    for result in (np.ones(2) + x, np.ones(2) * x, np.ones(2) - x, np.ones(2) / x):
        assert isinstance(result, ag.Tensor) and result.requires_grad
    y = np.array([3.0, 4.0]) * x
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [3.0, 4.0])
    assert y.grad_fn.prim.name == "multiply"  # numpy hands its ufunc to Tensor.__array_ufunc__


def test_unary_operators():
    a = np.array([-1.5, 0.5, 2.0])
    x = ag.tensor(a, requires_grad=True)
    np.testing.assert_array_equal((-x).numpy(), -a)
    np.testing.assert_array_equal(abs(x).numpy(), np.abs(a))
    assert +x is x
    (-x + abs(x)).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [-2.0, 0.0, 0.0])


# ------------------------------------------------------------------ comparisons


@pytest.mark.parametrize(
    "op", [operator.lt, operator.le, operator.gt, operator.ge, operator.eq, operator.ne]
)
def test_comparisons_return_bool_tensors_without_grad(op):
    a = np.array([1.0, 2.0, 3.0])
    x = ag.tensor(a, requires_grad=True)
    for other in (2.0, np.array([3.0, 2.0, 1.0]), ag.tensor([3.0, 2.0, 1.0])):
        raw = other.numpy() if isinstance(other, ag.Tensor) else other
        for result, expected in ((op(x, other), op(a, raw)), (op(other, x), op(raw, a))):
            assert isinstance(result, ag.Tensor)
            assert result.dtype == np.bool_
            assert not result.requires_grad and result.is_leaf
            np.testing.assert_array_equal(result.numpy(), expected)


def test_logical_operators_and_sign():
    x = ag.tensor([-1.0, 0.0, 2.0], requires_grad=True)
    np.testing.assert_array_equal(((x > -0.5) & (x < 1)).numpy(), [False, True, False])
    np.testing.assert_array_equal(((x < -0.5) | (x > 1)).numpy(), [True, False, True])
    np.testing.assert_array_equal((~(x > 0)).numpy(), [True, True, False])
    s = ag.sign(x)
    np.testing.assert_array_equal(s.numpy(), [-1.0, 0.0, 1.0])
    assert not s.requires_grad


# ------------------------------------------------------------------ indexing


def _index_grad(shape, index):
    x = ag.tensor(np.arange(float(np.prod(shape))).reshape(shape), requires_grad=True)
    y = x[index]
    np.testing.assert_array_equal(y.numpy(), x.numpy()[index])
    weights = np.arange(1.0, y.size + 1).reshape(y.shape)
    (y * weights).sum().backward()
    return x.grad.numpy(), weights


def test_getitem_basic_slice_gradient():
    grad, w = _index_grad((3, 4), (slice(1, 3), slice(None, None, 2)))
    expected = np.zeros((3, 4))
    expected[1:3, ::2] = w
    np.testing.assert_array_equal(grad, expected)


def test_getitem_int_scalar_and_negative_step():
    grad, _ = _index_grad((5,), 3)
    np.testing.assert_array_equal(grad, [0, 0, 0, 1, 0])
    grad, _ = _index_grad((5,), slice(None, None, -1))
    np.testing.assert_array_equal(grad, [5, 4, 3, 2, 1])


def test_getitem_repeated_integer_indices_accumulate():
    grad, _ = _index_grad((4,), np.array([2, 0, 2, 2]))
    np.testing.assert_array_equal(grad, [2.0, 0.0, 1.0 + 3.0 + 4.0, 0.0])
    grad, _ = _index_grad((4,), [1, 1])  # a list is an integer array too
    np.testing.assert_array_equal(grad, [0.0, 3.0, 0.0, 0.0])
    grad, _ = _index_grad((2, 3), (np.array([0, 0, 1]), np.array([1, 1, 2])))
    np.testing.assert_array_equal(grad, [[0.0, 3.0, 0.0], [0.0, 0.0, 3.0]])


def test_getitem_tensor_index_and_boolean_mask():
    grad, _ = _index_grad((4,), ag.tensor([3, 3]))
    np.testing.assert_array_equal(grad, [0.0, 0.0, 0.0, 3.0])
    mask = np.array([[True, False, True], [False, False, True]])
    grad, _ = _index_grad((2, 3), mask)
    np.testing.assert_array_equal(grad, [[1.0, 0.0, 2.0], [0.0, 0.0, 3.0]])
    x = ag.tensor([-1.0, 2.0, -3.0, 4.0], requires_grad=True)
    x[x > 0].sum().backward()  # a bool Tensor as mask
    np.testing.assert_array_equal(x.grad.numpy(), [0.0, 1.0, 0.0, 1.0])


# ------------------------------------------------------------------ methods


METHODS = [
    ("exp", (), {}),
    ("log", (), {}),
    ("sqrt", (), {}),
    ("sin", (), {}),
    ("cos", (), {}),
    ("tanh", (), {}),
    ("sigmoid", (), {}),
    ("relu", (), {}),
    ("abs", (), {}),
    ("leaky_relu", (0.2,), {}),
    ("clip", (0.6, 1.2), {}),
    ("sum", (), {"axis": 0, "keepdims": True}),
    ("mean", (1,), {}),
    ("max", (), {"axis": 1}),
    ("min", (), {"axis": 0}),
    ("logsumexp", (), {"axis": -1, "keepdims": True}),
    ("reshape", ((3, 2),), {}),
    ("transpose", ((1, 0),), {}),
    ("broadcast_to", ((4, 2, 3),), {}),
    ("expand_dims", (1,), {}),
    ("squeeze", (), {}),
    ("flatten", (), {}),
    ("softmax", (), {"axis": 0}),
    ("log_softmax", (), {}),
]


@pytest.mark.parametrize(("name", "args", "kwargs"), METHODS, ids=[m[0] for m in METHODS])
def test_method_equals_function(name, args, kwargs):
    data = np.array([[0.5, 1.0, 1.5], [2.0, 0.25, 0.75]])
    x, y = ag.tensor(data, requires_grad=True), ag.tensor(data, requires_grad=True)
    by_method = getattr(x, name)(*args, **kwargs)
    by_function = getattr(ag, name)(y, *args, **kwargs)
    np.testing.assert_array_equal(by_method.numpy(), by_function.numpy())
    (by_method * by_method).sum().backward()
    (by_function * by_function).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), y.grad.numpy())


def test_method_shape_spellings():
    x = ag.tensor(np.arange(6.0), requires_grad=True)
    assert x.reshape(2, 3).shape == x.reshape((2, 3)).shape == (2, 3)
    m = x.reshape(2, 3)
    assert m.transpose().shape == m.T.shape == (3, 2)
    assert m.swapaxes(0, 1).shape == (3, 2)
    np.testing.assert_array_equal(m.argmax(axis=1).numpy(), [2, 2])
    np.testing.assert_array_equal(m.argmin().numpy(), 0)


# ------------------------------------------------------------------ in-place ops


def test_in_place_methods_change_values_and_bump_version():
    t = ag.tensor([1.0, 2.0, 3.0])
    versions = [t._version]
    t.add_(1.0)
    versions.append(t._version)
    t.sub_(ag.tensor([1.0, 1.0, 1.0]), alpha=2.0)
    versions.append(t._version)
    t.mul_(np.array([2.0, 1.0, 0.5]))
    versions.append(t._version)
    np.testing.assert_array_equal(t.numpy(), [0.0, 1.0, 1.0])
    t[1] = 7.0
    versions.append(t._version)
    np.testing.assert_array_equal(t.numpy(), [0.0, 7.0, 1.0])
    t.copy_(np.array([4.0, 5.0, 6.0]))
    versions.append(t._version)
    t.fill_(2.0)
    versions.append(t._version)
    np.testing.assert_array_equal(t.numpy(), [2.0, 2.0, 2.0])
    t.zero_()
    versions.append(t._version)
    np.testing.assert_array_equal(t.numpy(), [0.0, 0.0, 0.0])
    assert versions == sorted(set(versions))  # strictly increasing


def test_in_place_on_leaf_requiring_grad_needs_no_grad():
    w = ag.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf Variable that requires grad.*no_grad"):
        w.add_(1.0)
    with pytest.raises(RuntimeError, match="__setitem__"):
        w[0] = 3.0
    with ag.no_grad():
        w.sub_(np.array([0.5, 0.5]))
        w[1] = 5.0
    np.testing.assert_array_equal(w.numpy(), [0.5, 5.0])
    assert w.requires_grad and w.is_leaf


def test_in_place_on_op_result_is_recorded_and_rebases_its_history():
    x = ag.tensor([1.0, 3.0], requires_grad=True)
    y = x * 2
    before = y.numpy()
    y.mul_(x)  # y = 2x·x, recorded: the tensor object takes the new node
    y += 1.0
    assert not y.is_leaf and y.tolist() == [3.0, 19.0]
    assert before.tolist() == [2.0, 6.0]  # the array the first node made is untouched
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [4.0, 12.0])  # d(2x²)/dx = 4x


def test_in_place_on_saved_tensor_then_backward_raises_naming_it():
    w = ag.tensor([1.0, 2.0], requires_grad=True)
    c = ag.tensor([3.0, 4.0])
    c.name = "scale"
    loss = (w * c).sum()
    c.add_(1.0)
    with pytest.raises(RuntimeError, match=r"modified by an inplace operation.*'scale'.*\(2,\)"):
        loss.backward()


def test_setitem_under_no_grad_on_saved_leaf_then_backward_raises():
    w = ag.tensor([1.0, 2.0, 3.0], requires_grad=True)
    w.name = "w"
    loss = (w * w).sum()
    with ag.no_grad():
        w[0] = 10.0
    with pytest.raises(RuntimeError, match=r"inplace operation.*'w'.*multiply"):
        loss.backward()


def test_in_place_before_recording_or_on_unrelated_tensor_is_fine():
    w = ag.tensor([1.0, 2.0], requires_grad=True)
    other = ag.tensor([0.0, 0.0])
    with ag.no_grad():
        w.mul_(3.0)
    loss = (w * w).sum()
    other.add_(1.0)
    loss.backward()
    np.testing.assert_array_equal(w.grad.numpy(), [6.0, 12.0])


@pytest.mark.parametrize("source", ["leaf", "result"])
def test_in_place_through_detach_then_backward_raises(source):
    x = ag.tensor([1.0, 2.0], requires_grad=True)
    y = x if source == "leaf" else x * 2
    loss = (y * y).sum()
    with ag.no_grad():
        y.detach().add_(1.0)
    with pytest.raises(RuntimeError, match="inplace operation"):
        loss.backward()


def test_every_tensor_slot_is_set_however_the_tensor_was_made():
    # op results are built without __init__ (tensor.result_tensor)
    x = ag.tensor([1.0, 2.0], requires_grad=True)
    made = [x, x * 2, x.detach(), ag.tensor(3.0) + 1, ag.sign(x)]
    with ag.no_grad():
        made.append(x * 2)
    slots = [name for name in ag.Tensor.__slots__ if name != "__weakref__"]
    for tensor in made:
        values = {name: getattr(tensor, name) for name in slots}  # AttributeError if unset
        assert values["_grad"] is None and values["_name"] is None and tensor._version == 0
        assert values["_requires_grad"] is (values["_node"] is not None) or tensor is x


def test_tensors_hash_by_identity():
    a, b = ag.tensor([1.0]), ag.tensor([1.0])
    assert len({a, b}) == 2 and {a: 1}[a] == 1


def test_python_scalars_become_numpy_scalars_and_in_place_ops_still_work():
    t = ag.tensor(1.5, requires_grad=True)
    assert type(t.data) is np.float64 and t.shape == () and t.numpy().shape == ()
    shared = np.array(2.0)
    assert ag.Tensor(shared).data is shared  # an ndarray is used as is, 0-d or not
    with ag.no_grad():
        t.add_(1.0)
    assert t.item() == 2.5 and t._version > 0
    (t * t).backward()
    assert t.grad.item() == 5.0
