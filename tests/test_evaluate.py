"""Batched evaluation and exact gradients through the compiled TensorFlow functions."""

import os
import tracemalloc
from pathlib import Path

import numpy as np
import pytest

from sensiflow.designs import sobol_design, sobol_spec
from sensiflow.errors import SensiflowError
from sensiflow.evaluate import check_outputs, evaluate_sobol, make_evaluator
from sensiflow.model import model_callable
from sensiflow.sobol import SobolAccumulator, sobol_indices

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


def test_float32_network_is_batch_invariant_to_float32_precision(tanh_network):
    net = tanh_network
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


@pytest.mark.parametrize("one_call", [True, False])
def test_streamed_sobol_evaluation_equals_direct_evaluation(tf, ishigami, one_call):
    problem = problem_of(ishigami)
    spec = sobol_spec(
        problem, base_samples=256, second_order=True, scramble=True, seed=0, chunk_rows=64
    )
    fn = _function_fn(ishigami)
    ev = make_evaluator(
        fn,
        3,
        batch_size=64 * 8,
        gradient_batch_size=128,
        dtype="float64",
        base_rows=64 if one_call else None,
    )
    y, moments = evaluate_sobol(ev, spec, problem)
    assert ev.trace_count.get("value_and_base_gradient", 0) == int(one_call)
    x = sobol_design(spec, problem)
    np.testing.assert_allclose(y, ishigami(x), rtol=1e-12, atol=1e-12)
    base = np.concatenate([x[::8], x[7::8]])
    g = ishigami.gradient(base)
    assert int(moments.count) == 512
    np.testing.assert_allclose(moments.total_sq, (g**2).sum(axis=0), rtol=1e-10)


def test_value_and_base_gradient_pads_a_short_chunk(tf, ishigami):
    ev = make_evaluator(_function_fn(ishigami), 3, batch_size=8 * 16, base_rows=16, dtype="float64")
    stack = np.random.default_rng(7).uniform(-3, 3, size=(8, 5, 3))
    y, g = ev.value_and_base_gradient(stack)
    np.testing.assert_allclose(y, ishigami(stack.reshape(-1, 3)).reshape(8, 5), rtol=1e-12)
    np.testing.assert_allclose(g, ishigami.gradient(np.concatenate([stack[0], stack[-1]])))
    with pytest.raises(ValueError, match="no compiled function for 4 matrices"):
        ev.value_and_base_gradient(stack[:4])


def test_indices_accumulated_in_the_pass_equal_those_from_stored_outputs(tf, ishigami):
    problem = problem_of(ishigami)
    spec = sobol_spec(
        problem, base_samples=512, second_order=True, scramble=True, seed=4, chunk_rows=64
    )
    ev = make_evaluator(_function_fn(ishigami), 3, batch_size=64 * 8, base_rows=64)
    acc = SobolAccumulator(spec, resamples=30, seed=9)
    kept, _ = evaluate_sobol(ev, spec, problem, accumulator=acc, keep_outputs=False)
    in_pass = acc.result()
    y, _ = evaluate_sobol(ev, spec, problem)
    stored = sobol_indices(y, spec, resamples=30, seed=9)
    assert kept is None
    for index in ("S1", "ST", "S2"):  # same outputs, same draws: the same numbers
        np.testing.assert_array_equal(getattr(in_pass, index), getattr(stored, index))
        np.testing.assert_array_equal(in_pass.replicates[index], stored.replicates[index])


def test_non_finite_outputs_on_the_sobol_design_name_the_first_design_row(tf, lin11):
    problem = problem_of(lin11)  # x3 ~ U(-1, 1): log(x3) is NaN on about half the rows
    spec = sobol_spec(
        problem, base_samples=128, second_order=False, scramble=True, seed=1, chunk_rows=32
    )
    ev = make_evaluator(lambda x: tf.math.log(x[:, 2]), 11, batch_size=32 * 13, dtype="float64")
    x = sobol_design(spec, problem)
    first = int(np.flatnonzero(x[:, 2] < 0)[0])
    example = f"x1={x[first, 0]:.6g}, x2={x[first, 1]:.6g}, x3={x[first, 2]:.6g}"
    with pytest.raises(
        SensiflowError,
        match=rf"at {(x[:, 2] < 0).sum()} of {len(x)} rows \(first: row {first}, {example},",
    ):
        evaluate_sobol(ev, spec, problem, accumulator=SobolAccumulator(spec))


def _rss_bytes() -> int | None:
    """Resident memory of this process now (Linux), or None."""
    try:
        pages = int(Path("/proc/self/statm").read_text().split()[1])
    except OSError:
        return None
    return pages * os.sysconf("SC_PAGE_SIZE")


def _streamed_memory(evaluator, spec, problem) -> tuple[list[int | None], list[int], int]:
    """Stream the design through the model into an accumulator, outputs not kept; return the
    resident memory after each chunk, the traced (numpy and Python) memory after each chunk,
    and the traced peak over the whole pass."""
    rss, traced = [], []

    def record(_: int) -> None:
        rss.append(_rss_bytes())
        traced.append(tracemalloc.get_traced_memory()[0])

    acc = SobolAccumulator(spec, resamples=20, seed=0)
    tracemalloc.start()
    try:
        evaluate_sobol(
            evaluator, spec, problem, accumulator=acc, keep_outputs=False, progress=record
        )
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    acc.result()
    return rss, traced, peak


def test_streamed_memory_does_not_grow_with_the_design(tanh_network, lin11):
    """Case 10: N = 2^14 with second order, 393,216 rows of the 11-15-1 network in 1000-row
    compiled batches (the design streamed 64 base rows, 1536 rows, at a time: 256 chunks).

    Resident memory after the last chunk is within 100 MB of that after chunk 10. The traced
    allocations (every numpy array) say more: their peak over the whole pass is the same for
    2^12 and 2^14 base rows to within 0.5 MB, where keeping the outputs alone would add 2.4 MB.
    20 resamples: what the bootstrap holds does not depend on N either way, and products this
    small stay on one BLAS thread (threads only contend with TensorFlow's on a small machine).
    """
    net = tanh_network
    ev = make_evaluator(
        lambda x: net(x, training=False), 11, batch_size=1000, gradient_batch_size=128
    )
    problem = problem_of(lin11)
    peaks = {}
    for n in (2**8, 2**12, 2**14):  # the first pass fills one-time caches (Sobol' tables)
        spec = sobol_spec(
            problem, base_samples=n, second_order=True, scramble=True, seed=0, chunk_rows=64
        )
        rss, traced, peaks[n] = _streamed_memory(ev, spec, problem)
    assert spec["rows"] == 393_216 and len(traced) == 256
    if rss[10] is not None:
        assert max(rss[10:]) - rss[10] < 100e6
    assert max(traced[10:]) - traced[10] < 0.5e6
    assert abs(peaks[2**14] - peaks[2**12]) < 0.5e6


def test_non_finite_outputs_are_refused_with_an_example_row():
    y = np.array([1.0, np.nan, 2.0, np.inf])
    x = np.arange(8.0).reshape(4, 2)
    with pytest.raises(SensiflowError, match=r"at 2 of 4 rows \(first: row 1, a=2, b=3\)"):
        check_outputs(y, lambda i: x[i], ["a", "b"], "model output")
