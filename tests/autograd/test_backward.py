"""The backward pass: accumulation, retain_graph, errors, diamonds, deep chains,
detach/requires_grad_, grad mode (context manager, decorator, per thread) and
anomaly detection."""

from __future__ import annotations

import gc
import re
import threading
import warnings

import numpy as np
import pytest

import autograd as ag
from autograd.backward import run_backward
from autograd.mode import enter_scope, exit_scope, state, threads_off_defaults

# ------------------------------------------------------------------ accumulation


def test_gradients_accumulate_across_backward_calls():
    x = ag.tensor([1.0, -2.0], requires_grad=True)
    (x * x).sum().backward()
    (3 * x).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [2.0 + 3.0, -4.0 + 3.0])
    x.grad = None
    (x * x).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [2.0, -4.0])


def test_each_leaf_owns_its_grad_array():
    a = ag.tensor([1.0, 2.0], requires_grad=True)
    b = ag.tensor([1.0, 2.0], requires_grad=True)
    (a + b).sum().backward()
    a.grad.numpy()[0] = 100.0
    assert b.grad.numpy()[0] == 1.0
    a.grad = b.grad = None
    ((a + b) * 2.0).backward(np.ones(2))  # add hands one intermediate array to both
    a.grad.numpy()[0] = 100.0
    assert b.grad.tolist() == [2.0, 2.0]
    c = ag.tensor([1.0, 2.0], requires_grad=True)
    seed = np.array([1.0, 1.0])
    (c + 0).backward(seed)  # add's VJP passes the seed through unchanged
    seed[0] = 5.0
    assert c.grad.tolist() == [1.0, 1.0]


def test_retain_graph_allows_a_second_backward():
    x = ag.tensor(3.0, requires_grad=True)
    y = x * x * x
    y.backward(retain_graph=True)
    y.backward()
    assert x.grad.item() == 2 * 27.0


def test_second_backward_through_freed_graph_raises():
    x = ag.tensor(2.0, requires_grad=True)
    y = ag.exp(x) * x
    y.backward()
    with pytest.raises(RuntimeError, match="Specify retain_graph=True"):
        y.backward()
    z = y * 2  # a new graph built on the freed one also cannot go through it
    with pytest.raises(RuntimeError, match="retain_graph=True"):
        z.backward()


def test_backward_with_explicit_grad_and_its_errors():
    x = ag.tensor([1.0, 2.0, 3.0], requires_grad=True)
    y = x * x
    with pytest.raises(RuntimeError, match="grad can be implicitly created only for scalar"):
        y.backward()
    with pytest.raises(ValueError, match=r"\(2,\).*\(3,\)"):
        y.backward(np.ones(2), retain_graph=True)
    y.backward(ag.tensor([1.0, 0.0, -1.0]))
    np.testing.assert_array_equal(x.grad.numpy(), [2.0, 0.0, -6.0])


def test_one_element_non_scalar_backward_needs_no_grad():
    x = ag.tensor([[2.0]], requires_grad=True)
    (x * x).backward()
    assert x.grad.shape == (1, 1) and x.grad.item() == 4.0


def test_backward_on_tensor_not_requiring_grad_raises():
    with pytest.raises(RuntimeError, match="does not require grad"):
        ag.tensor(1.0).backward()
    with pytest.raises(RuntimeError, match="does not require grad"):
        (ag.tensor([1.0]) * 2).sum().backward()


def test_backward_runs_under_no_grad_and_casts_the_seed():
    x = ag.tensor(np.array([1.0, 2.0], np.float32), requires_grad=True)
    y = x * x
    with ag.no_grad():
        y.backward(np.array([1.0, 0.5]))  # a float64 seed for a float32 output
    assert x.grad.dtype == np.float32
    np.testing.assert_array_equal(x.grad.numpy(), [2.0, 2.0])


def test_concurrent_backward_in_two_threads():
    errors: list[str] = []

    def work(offset: float) -> None:
        for k in range(200):
            x = ag.tensor([offset, k * 0.01], requires_grad=True)
            (ag.sin(x) * x).sum().backward()
            expected = np.sin(x.numpy()) + x.numpy() * np.cos(x.numpy())
            if not np.allclose(x.grad.numpy(), expected, rtol=1e-14):
                errors.append(f"thread {offset} step {k}")

    threads = [threading.Thread(target=work, args=(v,)) for v in (0.5, -1.5)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert errors == []


def test_backward_on_leaf_seeds_its_grad():
    x = ag.tensor(5.0, requires_grad=True)
    x.backward()
    assert x.grad.item() == 1.0


def test_only_leaves_that_require_grad_get_grad():
    a = ag.tensor([1.0, 2.0], requires_grad=True)
    b = ag.tensor([3.0, 4.0])
    y = a * b
    (y * y).sum().backward()
    np.testing.assert_array_equal(a.grad.numpy(), 2 * a.numpy() * b.numpy() ** 2)
    assert b.grad is None and y.grad is None


# ------------------------------------------------------------------ graph shapes


def test_diamond_reused_non_leaf():
    x = ag.tensor([0.5, -1.0], requires_grad=True)
    y = ag.sin(x)  # used by 50 consumers
    total = y * 0
    for k in range(1, 51):
        total = total + k * y
    z = total.sum() + (y * y).sum()
    z.backward()
    expected = (sum(range(1, 51)) + 2 * np.sin(x.numpy())) * np.cos(x.numpy())
    np.testing.assert_allclose(x.grad.numpy(), expected, rtol=1e-14)


def test_each_node_runs_its_vjp_once():
    x = ag.tensor(1.5, requires_grad=True)
    a = x * x
    b = a * a  # a feeds b twice
    c = a + b
    d = c * a  # and d
    runs: list[str] = []
    run_backward(d, np.ones(()), on_step=lambda node, g, grads: runs.append(node.prim.name))
    assert sorted(runs) == sorted(["multiply", "add", "multiply", "multiply"])
    # d = (a + a^2) a = a^2 + a^3, a = x^2: dd/dx = (2a + 3a^2) 2x
    a_val = 1.5**2
    assert x.grad.item() == pytest.approx((2 * a_val + 3 * a_val**2) * 2 * 1.5, rel=1e-14)


def test_consumers_outside_the_backward_graph_do_not_hold_a_node_back():
    # y also feeds a graph that is never differentiated, recorded before and after
    x = ag.tensor([0.3, -0.7], requires_grad=True)
    y = ag.tanh(x)
    other_before = y * 3
    loss = (y * y).sum() + y.sum()
    other_after = ag.exp(y)
    loss.backward()
    t = np.tanh(x.numpy())
    np.testing.assert_allclose(x.grad.numpy(), (2 * t + 1) * (1 - t * t), rtol=1e-14)
    assert other_before.grad_fn.saved is not None and other_after.grad_fn.saved is not None


def test_each_vjp_runs_after_all_its_consumers_in_every_order_of_recording():
    # nodes are numbered when recorded; interleave two graphs and a wide fan-in
    x = ag.tensor(0.4, requires_grad=True)
    order: list[str] = []
    a = x * 2.0
    unrelated = ag.tensor(1.0, requires_grad=True) * 5.0  # takes a number in between
    b = ag.sin(a) + a
    terms = [b * k for k in range(1, 30)]
    c = terms[0]
    for term in terms[1:]:
        c = c + term
    loss = c * a + unrelated.detach()
    seen_grads: dict[int, float] = {}

    def on_step(node, g, grads):
        order.append(node.prim.name)
        assert id(node) not in seen_grads  # each node runs once, with its full gradient
        seen_grads[id(node)] = float(g)

    run_backward(loss, np.ones(()), on_step=on_step)
    s = sum(range(1, 30))  # loss = s·(sin 2x + 2x)·2x
    av = 0.8
    expected = s * ((np.cos(av) * 2 + 2) * av + (np.sin(av) + av) * 2)
    assert x.grad.item() == pytest.approx(expected, rel=1e-13)
    assert order[-1] == "multiply"  # a = 2x is the last to run: every use of it came first
    da = s * (np.sin(av) + av) + av * s * (np.cos(av) + 1)  # dloss/da, all uses summed
    assert seen_grads[id(a.grad_fn)] == pytest.approx(da, rel=1e-13)


def test_gradient_of_unused_input_is_none_and_constant_branches_are_skipped():
    x = ag.tensor(2.0, requires_grad=True)
    unused = ag.tensor(1.0, requires_grad=True)
    frozen = ag.tensor(4.0, requires_grad=True)
    y = x * frozen.detach()
    y.backward()
    assert x.grad.item() == 4.0 and unused.grad is None and frozen.grad is None


DEPTH = 1_000_000


def test_a_node_is_the_list_of_its_parents_and_equal_only_to_itself():
    x = ag.tensor(2.0, requires_grad=True)
    a, b = x * 3.0, x * 3.0
    assert a.grad_fn.parents == b.grad_fn.parents == (x, None)
    assert a.grad_fn == a.grad_fn and a.grad_fn != b.grad_fn and len({a.grad_fn, b.grad_fn}) == 2
    assert (a * b).grad_fn.parents == (a.grad_fn, b.grad_fn)


def test_each_recorded_op_leaves_one_object_for_the_garbage_collector():
    x = ag.tensor(2.0, requires_grad=True)
    gc.collect()
    before = len(gc.get_objects())
    y = x
    for _ in range(1000):
        y = y * 1.0001
    gc.collect()  # also untracks the tuples of saved numbers (they hold no references)
    assert len(gc.get_objects()) - before == pytest.approx(1000, abs=20)  # the nodes
    y.backward()
    assert x.grad.item() == pytest.approx(1.0001**1000)


def test_million_op_scalar_chain_backward_has_no_recursion_error():
    x = ag.tensor(0.5, requires_grad=True)
    y = x
    for _ in range(DEPTH):
        y = y + 1e-6
    y.backward()
    assert y.item() == pytest.approx(0.5 + DEPTH * 1e-6, rel=1e-9)
    assert x.grad.item() == 1.0
    del y  # freeing a million-node graph must not recurse either


def test_deep_chain_of_varied_ops_with_create_graph():
    x = ag.tensor(0.3, requires_grad=True)
    y = x
    for _ in range(2_000):
        y = ag.sin(y) * 1.0001
    (g,) = ag.gradients(y, [x], create_graph=True)
    (gg,) = ag.gradients(g, [x])
    # reference by forward-mode recursion: y' and y'' of the composed map
    v, d1, d2 = 0.3, 1.0, 0.0
    for _ in range(2_000):
        c, s = np.cos(v), np.sin(v)
        v, d1, d2 = 1.0001 * s, 1.0001 * c * d1, 1.0001 * (c * d2 - s * d1 * d1)
    assert g.item() == pytest.approx(d1, rel=1e-10)
    assert gg.item() == pytest.approx(d2, rel=1e-10)


# ------------------------------------------------------------------ detach, requires_grad_


def test_detach_shares_data_and_cuts_the_graph():
    x = ag.tensor([1.0, 2.0], requires_grad=True)
    y = x * 3
    d = y.detach()
    assert not d.requires_grad and d.is_leaf and d.grad_fn is None
    assert np.shares_memory(d.numpy(), y.numpy())
    (y * d).sum().backward()  # d is a constant: dy/dx * d only
    np.testing.assert_array_equal(x.grad.numpy(), 3 * d.numpy())


def test_requires_grad_flag():
    x = ag.tensor([1.0, 2.0])
    assert x.requires_grad_() is x and x.requires_grad
    x.requires_grad = False
    assert not x.requires_grad
    assert not (x * 2).requires_grad
    x.requires_grad = True
    y = x * 2
    assert y.requires_grad_(True) is y
    with pytest.raises(RuntimeError, match="leaf variables.*detach"):
        y.requires_grad_(False)


# ------------------------------------------------------------------ grad mode


def test_no_grad_context_records_nothing_and_restores():
    x = ag.tensor([1.0], requires_grad=True)
    assert ag.is_grad_enabled()
    with ag.no_grad():
        assert not ag.is_grad_enabled()
        y = x * 2
        with ag.enable_grad():
            assert ag.is_grad_enabled()
            z = x * 2
        assert not ag.is_grad_enabled()
    assert ag.is_grad_enabled()
    assert not y.requires_grad and y.grad_fn is None
    assert z.requires_grad and z.grad_fn is not None


def test_grad_mode_restored_after_exception():
    with pytest.raises(KeyError), ag.no_grad():
        raise KeyError("boom")
    assert ag.is_grad_enabled()


def test_no_grad_and_enable_grad_as_decorators():
    x = ag.tensor([1.0], requires_grad=True)

    @ag.no_grad()
    def frozen(t):
        return t * 2, ag.is_grad_enabled()

    @ag.enable_grad()
    def recording(t):
        return t * 2

    y, enabled = frozen(x)
    assert not enabled and not y.requires_grad
    assert frozen.__name__ == "frozen"
    with ag.no_grad():
        assert recording(x).requires_grad
    assert ag.is_grad_enabled()


def test_set_grad_enabled():
    x = ag.tensor(1.0, requires_grad=True)
    with ag.set_grad_enabled(False):
        assert not (x * 2).requires_grad
    with ag.no_grad(), ag.set_grad_enabled(True):
        assert (x * 2).requires_grad

    @ag.set_grad_enabled(False)
    def f():
        return ag.is_grad_enabled()

    assert f() is False and ag.is_grad_enabled()


def test_grad_mode_is_per_thread():
    x = ag.tensor([1.0], requires_grad=True)
    inside, done = threading.Event(), threading.Event()
    seen: dict[str, bool] = {}

    def worker():
        with ag.no_grad():
            inside.set()
            done.wait(5)
            seen["worker"] = (x * 2).requires_grad

    thread = threading.Thread(target=worker)
    thread.start()
    assert inside.wait(5)
    seen["main"] = (x * 2).requires_grad  # while the worker sits in no_grad
    done.set()
    thread.join(5)
    assert seen == {"main": True, "worker": False}


def test_ops_see_every_change_of_grad_mode_anomaly_mode_and_scope():
    # ops read per-thread state only while some thread is off the defaults
    x = ag.tensor([1.0], requires_grad=True)
    me = threading.get_ident()
    assert me not in threads_off_defaults
    with ag.no_grad():
        assert me in threads_off_defaults and not (x * 2).requires_grad
        with ag.enable_grad():
            assert me not in threads_off_defaults and (x * 2).requires_grad
    with ag.detect_anomaly(), np.errstate(divide="ignore"), pytest.raises(FloatingPointError):
        ag.log(x - 1.0)
    previous = enter_scope("a module")  # what nn.Module.__call__ does
    assert (x * 2).grad_fn.scope == ("a module",)
    exit_scope(previous)
    with pytest.raises(ValueError), ag.no_grad():
        raise ValueError  # leaving by an exception restores the defaults too
    assert me not in threads_off_defaults and (x * 2).grad_fn.scope is None
    assert ag.no_grad()(lambda: (x * 2).requires_grad)() is False
    assert me not in threads_off_defaults


def test_one_thread_off_the_defaults_does_not_change_what_another_records():
    x = ag.tensor([1.0], requires_grad=True)
    inside, done = threading.Event(), threading.Event()
    seen: dict[str, object] = {}

    def worker():  # stays on the defaults while the main thread is off them
        inside.wait(5)
        seen["worker"] = (x * 2).grad_fn.scope, (x * 2).requires_grad
        done.set()

    thread = threading.Thread(target=worker)
    thread.start()
    previous = enter_scope("main's module")
    try:
        with ag.no_grad():
            inside.set()
            assert done.wait(5)
            seen["main"] = (x * 2).requires_grad
    finally:
        exit_scope(previous)
    thread.join(5)
    assert seen == {"worker": (None, True), "main": False}


def test_new_thread_starts_with_grad_enabled():
    results = []
    with ag.no_grad():
        thread = threading.Thread(target=lambda: results.append(ag.is_grad_enabled()))
        thread.start()
        thread.join(5)
    assert results == [True]


# ------------------------------------------------------------------ anomaly detection


def test_anomaly_names_op_whose_forward_made_nan():
    x = ag.tensor([1.0, -1.0], requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        with ag.detect_anomaly(), pytest.raises(FloatingPointError, match="'log' \\(forward\\)"):
            ag.log(x)
        y = ag.log(x)  # outside anomaly mode: NaN passes silently, as in numpy
    assert np.isnan(y.numpy()[1])


def test_anomaly_names_op_whose_backward_made_inf():
    x = ag.tensor([0.0, 4.0], requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        with ag.detect_anomaly():
            y = ag.sqrt(x).sum()  # the forward is finite
            with pytest.raises(FloatingPointError, match="sqrtBackward"):
                y.backward()
        ag.sqrt(x).sum().backward()
    assert x.grad.numpy()[0] == np.inf and x.grad.numpy()[1] == 0.25


def test_anomaly_mode_nests_and_restores():
    assert not state.anomaly
    with ag.detect_anomaly():
        with ag.detect_anomaly():
            assert state.anomaly
        assert state.anomaly
        x = ag.tensor([1.0, 2.0], requires_grad=True)
        (ag.log(x) * x).sum().backward()  # finite: no error
    assert not state.anomaly
    np.testing.assert_allclose(x.grad.numpy(), np.log([1.0, 2.0]) + 1)


# ------------------------------------------------------------------ shape errors


BINARY_OPS = [ag.add, ag.subtract, ag.multiply, ag.divide, ag.pow, ag.maximum, ag.minimum]


@pytest.mark.parametrize("op", BINARY_OPS, ids=lambda f: f.__name__)
def test_binary_shape_mismatch_names_op_and_both_shapes(op):
    a = ag.tensor(np.ones((2, 3)), requires_grad=True)
    b = ag.tensor(np.ones(4))
    with pytest.raises(ValueError, match=rf"{op.__name__}.*\(2, 3\).*\(4,\)"):
        op(a, b)


def test_operator_shape_mismatch_names_op():
    with pytest.raises(ValueError, match=r"multiply.*\(2,\).*\(3,\)"):
        ag.tensor([1.0, 2.0]) * np.ones(3)


@pytest.mark.parametrize(("sa", "sb"), [((2, 3), (4,)), ((2, 3), (2, 3)), ((3,), (4, 2))])
def test_matmul_shape_mismatch_names_op_and_both_shapes(sa, sb):
    with pytest.raises(ValueError, match=rf"matmul.*{re.escape(str(sa))}.*{re.escape(str(sb))}"):
        ag.tensor(np.ones(sa)) @ ag.tensor(np.ones(sb))


def test_where_and_concatenate_shape_errors_name_the_op():
    with pytest.raises(ValueError, match=r"where.*\(2,\).*\(3,\)"):
        ag.where(np.array([True, False]), ag.tensor(np.ones(2)), ag.tensor(np.ones(3)))
    with pytest.raises(ValueError, match=r"concatenate.*\(2, 3\).*\(2, 2\)"):
        ag.concatenate([ag.tensor(np.ones((2, 3))), ag.tensor(np.ones((2, 2)))], axis=0)
    with pytest.raises(ValueError, match="reshape"):
        ag.tensor(np.ones(6)).reshape(4, 2)


def test_unread_large_arrays_are_released_when_recorded_and_the_rest_after_backward():
    big = ag.tensor(np.linspace(-1.0, 1.0, 2 * ag.node.SMALL_BYTES // 8), requires_grad=True)
    y = ag.relu(big)  # relu's VJP reads its output only: the big input is released at once
    node = y.grad_fn
    assert isinstance(node.saved[0], ag.node.FreedArray)
    assert node.saved[0].shape == big.shape and node.saved[0].dtype == big.dtype
    assert node.out is y.data
    y.sum().backward()
    assert node.freed and isinstance(node.out, ag.node.FreedArray)  # shape kept for pictures
    assert node.shape == big.shape
    np.testing.assert_array_equal(big.grad.numpy(), (big.numpy() > 0).astype(float))


def test_after_backward_no_node_holds_a_large_array():
    n = 2 * ag.node.SMALL_BYTES // 8
    a = ag.tensor(np.linspace(-1.0, 1.0, n), requires_grad=True)
    w = ag.tensor(np.linspace(0.5, 1.5, n), requires_grad=True)
    product = a * w  # multiply reads its inputs only: its big output is released at once
    assert isinstance(product.grad_fn.out, ag.node.FreedArray)
    loss = (ag.tanh(product) + ag.exp(a) - w * 0.5).sum()
    loss.backward()
    nodes, stack = [], [loss.grad_fn]
    while stack:
        node = stack.pop()
        nodes.append(node)
        stack.extend(p for p in node.parents if isinstance(p, ag.node.Node))
    assert len(nodes) == 7 and all(node.freed for node in nodes)
    assert not [node for node in nodes if ag.node.is_large(node.out)]
    assert {node.out.shape for node in nodes} == {(n,), ()}  # shapes kept for pictures


def test_small_arrays_are_kept_where_a_stand_in_would_cost_more_than_it_saves():
    small = ag.tensor(np.linspace(-1.0, 1.0, 8), requires_grad=True)
    y = ag.relu(small)
    assert y.grad_fn.saved[0] is small.data
    y.sum().backward()
    assert y.grad_fn.freed and y.grad_fn.out is y.data


def test_gradients_meeting_at_a_leaf_are_summed_once_into_its_grad():
    w = ag.tensor(2.0, requires_grad=True)
    w.grad = ag.tensor(10.0)
    loss = w * 3.0 + w * w + ag.exp(w)  # three paths into w
    loss.backward()
    assert w.grad.item() == pytest.approx(10.0 + 3.0 + 4.0 + np.exp(2.0), rel=1e-15)


def test_a_node_is_immutable_from_outside():
    node = (ag.tensor([1.0], requires_grad=True) * 2).grad_fn
    for mutate in (
        lambda: node.append(None),
        lambda: node.extend([None]),
        lambda: node.insert(0, None),
        lambda: node.pop(),
        lambda: node.clear(),
        lambda: node.__setitem__(0, None),
        lambda: node.__delitem__(0),
        lambda: node.__iadd__([None]),
        lambda: node.sort(),
    ):
        with pytest.raises(TypeError, match="fixed when it is recorded"):
            mutate()
    assert len(node.parents) == 2 and bool(node)
