"""Batched evaluation and exact gradients through the compiled TensorFlow functions."""

import numpy as np
import pytest

from sensiflow.designs import sobol_design, sobol_spec
from sensiflow.errors import SensiflowError
from sensiflow.evaluate import check_outputs, evaluate_sobol, make_evaluator
from sensiflow.model import model_callable

from .conftest import LIN11_COEF, problem_of


def _function_fn(function, dtype="float64", output_scaling=None):
    card = {
        "source": "function",
        "function": {"name": function.name, **_spec(function)},
        "dtype": dtype,
        "input_scaling": None,
        "output_scaling": output_scaling,
    }
    return model_callable(card, ".")[0]


def _spec(function):
    if function.name == "linear":
        return {"coefficients": function.params["coefficients"], "bounds": function.bounds.tolist()}
    return dict(function.params)


def test_linear_network_gradient_equals_its_weights(linear_network, lin11):
    fn = lambda x: linear_network(x, training=False)  # noqa: E731
    ev = make_evaluator(fn, 11, batch_size=256, dtype="float64")
    x = np.random.default_rng(0).uniform(-3, 3, size=(1000, 11))
    y, g = ev.value_and_gradient(x)
    np.testing.assert_allclose(y, x @ np.array(LIN11_COEF), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(g, np.broadcast_to(LIN11_COEF, g.shape), rtol=0, atol=1e-12)


@pytest.mark.parametrize("name", ["ishigami", "sobol_g"])
def test_gradients_match_central_differences_in_float64(tf, ishigami, gfun11, name):
    function = {"ishigami": ishigami, "sobol_g": gfun11}[name]
    ev = make_evaluator(_function_fn(function), function.n_inputs, batch_size=64, dtype="float64")
    lo, hi = function.bounds[:, 0], function.bounds[:, 1]
    x = lo + (hi - lo) * np.random.default_rng(1).uniform(0.05, 0.95, (100, function.n_inputs))
    x = x[(np.abs(4 * x - 2) > 1e-2).all(axis=1)] if name == "sobol_g" else x
    _, g = ev.value_and_gradient(x)
    h = 1e-6 * (hi - lo)
    fd = np.stack(
        [
            (ev.value(x + h[i] * e) - ev.value(x - h[i] * e)) / (2 * h[i])
            for i, e in enumerate(np.eye(function.n_inputs))
        ],
        axis=1,
    )
    np.testing.assert_allclose(g, fd, rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(g, function.gradient(x), rtol=1e-10, atol=1e-10)


def test_float32_gradients_match_finite_differences_with_a_sensible_step(tf, ishigami):
    ev = make_evaluator(_function_fn(ishigami, "float32"), 3, batch_size=64, dtype="float32")
    x = np.random.default_rng(2).uniform(-2.5, 2.5, (50, 3))
    _, g = ev.value_and_gradient(x)
    h = 1e-2 * 2 * np.pi / 100  # about 1e-2 of a tenth of the range; float32 needs a big step
    fd = np.stack([(ishigami(x + h * e) - ishigami(x - h * e)) / (2 * h) for e in np.eye(3)], 1)
    scale = np.abs(fd).max()
    np.testing.assert_allclose(g, fd, rtol=1e-3, atol=1e-3 * scale)


@pytest.mark.parametrize("n_rows", [13312, 100_003])
def test_outputs_do_not_depend_on_batch_size(linear_network, n_rows):
    fn = lambda x: linear_network(x, training=False)  # noqa: E731
    x = np.random.default_rng(3).normal(size=(n_rows, 11))
    per_batch = make_evaluator(fn, 11, batch_size=4096, dtype="float64")
    y_a, g_a = per_batch.value_and_gradient(x)
    y_b = make_evaluator(fn, 11, batch_size=997, dtype="float64").value(x)
    y_row = make_evaluator(fn, 11, batch_size=1, dtype="float64").value(x[:50])
    np.testing.assert_allclose(y_a, y_b, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(y_a[:50], y_row, rtol=1e-12, atol=1e-12)
    # one trace per function, however many batches (the last one is padded)
    assert per_batch.trace_count == {"value": 0, "value_and_gradient": 1}


def test_float32_network_is_batch_invariant_to_float32_precision(tf):
    from sensiflow.model import build_network

    net = build_network(
        11,
        hidden_units=15,
        activation="tanh",
        x_mean=np.zeros(11),
        x_sd=np.ones(11),
        y_mean=5.0,
        y_sd=0.8,
    )
    fn = lambda x: net(x, training=False)  # noqa: E731
    x = np.random.default_rng(4).normal(size=(13312, 11))
    big = make_evaluator(fn, 11, batch_size=4096).value(x)
    single = np.array(
        [make_evaluator(fn, 11, batch_size=1).value(x[i : i + 1])[0] for i in range(20)]
    )
    np.testing.assert_allclose(big[:20], single, rtol=1e-6)


def test_output_transform_is_applied_inside_the_tape(tf, lin11):
    fn = _function_fn(lin11, output_scaling={"center": 1.0, "scale": 2.0})
    ev = make_evaluator(fn, 11, batch_size=32, dtype="float64")
    x = np.random.default_rng(5).uniform(0, 1, (40, 11))
    y, g = ev.value_and_gradient(x)
    np.testing.assert_allclose(y, 2 * lin11(x) + 1, rtol=1e-12)
    np.testing.assert_allclose(g, 2 * np.broadcast_to(LIN11_COEF, g.shape), rtol=0, atol=1e-12)


def test_integer_inputs_are_cast_before_the_tape(linear_network):
    ev = make_evaluator(
        lambda x: linear_network(x, training=False), 11, batch_size=16, dtype="float64"
    )
    counts = np.random.default_rng(6).integers(0, 10, size=(30, 11))  # int64 columns
    _, g = ev.value_and_gradient(counts)
    assert g.dtype == np.float64 and g.shape == (30, 11) and np.isfinite(g).all()


def test_streamed_sobol_evaluation_equals_direct_evaluation(tf, ishigami):
    problem = problem_of(ishigami)
    spec = sobol_spec(
        problem, base_samples=256, second_order=True, scramble=True, seed=0, chunk_rows=64
    )
    fn = _function_fn(ishigami)
    ev = make_evaluator(fn, 3, batch_size=64 * 8, gradient_batch_size=128, dtype="float64")
    y, moments = evaluate_sobol(ev, spec, problem)
    x = sobol_design(spec, problem)
    np.testing.assert_allclose(y, ishigami(x), rtol=1e-12, atol=1e-12)
    base = np.concatenate([x[::8], x[7::8]])
    g = ishigami.gradient(base)
    assert int(moments.count) == 512
    np.testing.assert_allclose(moments.total_sq, (g**2).sum(axis=0), rtol=1e-10)


def test_non_finite_outputs_are_refused_with_an_example_row():
    y = np.array([1.0, np.nan, 2.0, np.inf])
    x = np.arange(8.0).reshape(4, 2)
    with pytest.raises(SensiflowError, match=r"at 2 of 4 rows \(first: row 1, a=2, b=3\)"):
        check_outputs(y, lambda i: x[i], ["a", "b"], "model output")
