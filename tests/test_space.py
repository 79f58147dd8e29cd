"""Input space: derived bounds, named distribution parameters, Poincare constants, coverage."""

import math

import numpy as np
import pandas as pd
import pytest
from scipy.stats import qmc

from sensiflow.config import validate
from sensiflow.errors import SensiflowError
from sensiflow.space import coverage, derive_problem, poincare_constant, ppf


def _train():
    rng = np.random.default_rng(0)
    return pd.DataFrame({"a": rng.uniform(2, 4, 500), "b": rng.normal(0, 1, 500)})


def test_range_and_quantile_spaces():
    train = _train()
    p = derive_problem(train, ["a", "b"], method="range", quantiles=(0, 1), overrides={})
    assert p["bounds"][0] == [train["a"].min(), train["a"].max()]
    q = derive_problem(train, ["a", "b"], method="quantiles", quantiles=(0.1, 0.9), overrides={})
    assert q["bounds"][1] == pytest.approx(list(train["b"].quantile([0.1, 0.9])))
    assert q["distributions"][1]["origin"] == "training quantiles 0.1-0.9"


def test_unknown_override_is_refused():
    with pytest.raises(SensiflowError, match=r"space.inputs.c: not an input"):
        derive_problem(
            _train(),
            ["a", "b"],
            method="range",
            quantiles=(0, 1),
            overrides={"c": {"dist": "uniform", "lower": 0, "upper": 1}},
        )


def test_distribution_parameters_mean_what_they_say():
    dists = [
        {"input": "x1", "dist": "lognormal", "log_mean": 5, "log_sd": 0.4},
        {"input": "x2", "dist": "normal", "mean": 10, "sd": 2},
        {"input": "x3", "dist": "triangular", "lower": -3, "mode": -1, "upper": 0},
        {"input": "x4", "dist": "loguniform", "lower": 1, "upper": 100},
    ]
    problem = {"num_vars": 4, "names": ["x1", "x2", "x3", "x4"], "distributions": dists}
    x = ppf(qmc.Sobol(4, seed=0).random(2**14), problem)
    assert x[:, 0].mean() == pytest.approx(math.exp(5 + 0.4**2 / 2), rel=0.01)  # 160.8
    assert x[:, 1].mean() == pytest.approx(10, abs=0.02)
    assert x[:, 1].std() == pytest.approx(2, abs=0.02)
    assert x[:, 2].mean() == pytest.approx((-3 - 1 + 0) / 3, abs=0.01)
    assert x[:, 3].min() >= 1 and x[:, 3].max() <= 100


def test_loguniform_with_non_positive_bound_is_refused():
    with pytest.raises(SensiflowError, match=r"space.inputs.x2.lower: loguniform needs"):
        validate({"space": {"inputs": {"x2": {"dist": "loguniform", "lower": 0, "upper": 5}}}})


def test_poincare_constants():
    assert poincare_constant({"dist": "uniform", "lower": 0, "upper": 2})[0] == pytest.approx(
        4 / math.pi**2
    )
    assert poincare_constant({"dist": "normal", "mean": 0, "sd": 3})[0] == 9
    assert poincare_constant({"dist": "lognormal", "log_mean": 0, "log_sd": 1})[0] is None


def test_coverage_of_correlated_inputs():
    rng = np.random.default_rng(1)
    x1 = rng.uniform(0, 1, 5000)
    train = pd.DataFrame({"x1": x1, "x2": x1 + rng.normal(0, 0.01, 5000)})
    problem = derive_problem(train, ["x1", "x2"], method="range", quantiles=(0, 1), overrides={})
    pairs = [{"inputs": ["x1", "x2"], "pearson_r": float(np.corrcoef(train.T)[0, 1])}]
    cover = coverage(problem, train, pairs)
    off = cover["correlated_pairs"][0]["fraction_off_training_relation"]
    assert off > 0.8  # the independent design ignores the relation the data follow
    assert all(v == 0 for v in cover["fraction_outside_training_range"].values())


def test_coverage_counts_design_points_in_the_training_tails():
    # a skewed input: 98% of the rows below 1, a few up to 10; its min/max space is mostly tail
    rng = np.random.default_rng(3)
    skewed = np.concatenate([rng.uniform(0, 1, 980), rng.uniform(1, 10, 20)])
    train = pd.DataFrame({"s": skewed, "u": rng.uniform(0, 1, 1000)})
    wide = derive_problem(train, ["s", "u"], method="range", quantiles=(0, 1), overrides={})
    tails = coverage(wide, train, [])["fraction_in_training_tails"]
    upper = np.quantile(skewed, 0.99)
    assert tails["s"] == pytest.approx(
        (skewed.max() - upper) / (skewed.max() - skewed.min()), abs=0.01
    )
    assert tails["u"] == pytest.approx(0.02, abs=0.01)
    narrow = derive_problem(
        train, ["s", "u"], method="quantiles", quantiles=(0.01, 0.99), overrides={}
    )
    assert max(coverage(narrow, train, [])["fraction_in_training_tails"].values()) < 0.01
