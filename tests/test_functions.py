"""The analytic benchmark functions against the published values."""

import numpy as np
import pytest


def test_lin11_indices(lin11):
    exact = lin11.indices()
    assert exact["variance"] == pytest.approx(4.055)
    np.testing.assert_allclose(
        exact["S1"],
        [
            0.020551,
            0.328812,
            0.020551,
            0.082203,
            0.184957,
            0.005138,
            0.020551,
            0.184957,
            0.003288,
            0.128442,
            0.020551,
        ],
        atol=1e-6,
    )
    np.testing.assert_array_equal(exact["S1"], exact["ST"])


def test_ishigami_indices_and_dgsm(ishigami):
    exact = ishigami.indices()
    assert exact["variance"] == pytest.approx(13.844588, abs=1e-6)
    np.testing.assert_allclose(exact["S1"], [0.313905, 0.442411, 0], atol=1e-6)
    np.testing.assert_allclose(exact["ST"], [0.557589, 0.442411, 0.243684], atol=1e-6)
    assert exact["S2"][(0, 2)] == pytest.approx(0.243684, abs=1e-6)
    np.testing.assert_allclose(ishigami.dgsm(), [7.719588, 24.5, 10.987305], atol=1e-6)


def test_g_function_indices(gfun11):
    exact = gfun11.indices()
    np.testing.assert_allclose(exact["S1"][:4], [0.715967, 0.178992, 0.023668, 0.007160], atol=1e-6)
    np.testing.assert_allclose(exact["ST"][:4], [0.786975, 0.242146, 0.034310, 0.010458], atol=1e-6)
    assert exact["S2"][(0, 1)] == pytest.approx(0.059664, abs=1e-6)
    assert exact["S2"][(0, 2)] == pytest.approx(0.007889, abs=1e-6)


def test_closed_form_gradients_match_finite_differences(ishigami, gfun11):
    rng = np.random.default_rng(0)
    for f in (ishigami, gfun11):
        lo, hi = f.bounds[:, 0], f.bounds[:, 1]
        x = lo + (hi - lo) * rng.uniform(0.05, 0.95, size=(50, f.n_inputs))
        h = 1e-6
        fd = np.stack([(f(x + h * e) - f(x - h * e)) / (2 * h) for e in np.eye(f.n_inputs)], 1)
        ok = np.abs(4 * x - 2) > 1e-3 if f.name == "sobol_g" else np.ones_like(x, bool)
        np.testing.assert_allclose(f.gradient(x)[ok.all(1)], fd[ok.all(1)], rtol=1e-5, atol=1e-7)
