"""DGSM from exact gradients, and its bound on ST."""

import math

import numpy as np
import pandas as pd
import pytest

from sensiflow.designs import sobol_spec
from sensiflow.dgsm import dgsm_table
from sensiflow.evaluate import evaluate_sobol, sobol_evaluator
from sensiflow.model import model_callable
from sensiflow.sobol import sobol_indices, sobol_table

from .conftest import LIN11_COEF, problem_of


def _run(function, n):
    problem = problem_of(function)
    spec = sobol_spec(problem, base_samples=n, second_order=False, scramble=True, seed=3)
    params = (
        {"coefficients": function.params["coefficients"], "bounds": function.bounds.tolist()}
        if function.name == "linear"
        else dict(function.params)
    )
    card = {
        "source": "function",
        "function": {"name": function.name, **params},
        "dtype": "float64",
        "input_scaling": None,
        "output_scaling": None,
    }
    ev = sobol_evaluator(model_callable(card, ".")[0], spec, dtype="float64")
    y, moments = evaluate_sobol(ev, spec, problem)
    result = sobol_indices(y, spec, resamples=50)
    sobol = sobol_table(result, problem["names"])
    return dgsm_table(moments.arrays(), result.variance, problem, sobol)


def test_lin11_dgsm_is_exact(tf, lin11):
    table = _run(lin11, 1024)
    np.testing.assert_allclose(table["nu"], np.square(LIN11_COEF), rtol=0, atol=1e-9)
    # for a linear model the bound is (12 / pi^2) S_i = 1.21585 S_i
    ratio = table["bound"] / lin11.indices()["ST"]
    np.testing.assert_allclose(ratio, 12 / math.pi**2, rtol=2e-3)
    assert table["bound_holds"].all()


def test_ishigami_dgsm_and_bound(tf, ishigami):
    table = _run(ishigami, 2**14)
    np.testing.assert_allclose(table["nu"], [7.719588, 24.5, 10.987305], rtol=0.02)
    np.testing.assert_allclose(table["bound"], [2.230355, 7.078578, 3.174469], rtol=0.02)
    assert (table["bound"] >= ishigami.indices()["ST"]).all()
    assert table["bound_holds"].all()


def test_no_bound_without_a_poincare_constant():
    problem = {
        "names": ["a", "b"],
        "distributions": [
            {"input": "a", "dist": "uniform", "lower": 0, "upper": 1},
            {"input": "b", "dist": "lognormal", "log_mean": 0, "log_sd": 1},
        ],
    }
    moments = {"count": np.array(10), "sum_sq": np.array([10.0, 40.0])}
    table = dgsm_table(moments, 2.0, problem)
    assert table.loc[0, "bound"] == pytest.approx(1 / math.pi**2 / 2)
    assert pd.isna(table.loc[1, "bound"])
    assert "no bound" in table.loc[1, "constant_rule"]
