"""Local statistics and their units."""

import numpy as np
import pytest

from sensiflow.local import (
    ORIGINAL,
    STANDARDISED,
    gradient_statistics,
    local_table,
    moment_statistics,
    standardising_factors,
)


def test_statistics_from_rows_and_from_moments_agree():
    g = np.random.default_rng(0).normal(1, 2, size=(500, 3))
    moments = {
        "count": np.array(500),
        "sum": g.sum(0),
        "sum_sq": (g**2).sum(0),
        "sum_abs": np.abs(g).sum(0),
    }
    a, b = gradient_statistics(g), moment_statistics(moments)
    for key in ("mean", "sd", "mean_abs", "rms"):
        np.testing.assert_allclose(a[key], b[key], rtol=1e-10)


def test_standardised_units_are_labelled_and_scaled():
    stats = {"a": {"sd": 2.0}, "b": {"sd": 0.5}, "y": {"sd": 4.0}}
    factors = standardising_factors(["a", "b"], stats, "y")
    np.testing.assert_allclose(factors, [0.5, 0.125])
    g = np.tile([3.0, -8.0], (10, 1))
    moments = {
        "count": np.array(4),
        "sum": np.array([4.0, 4.0]),
        "sum_sq": np.array([4.0, 4.0]),
        "sum_abs": np.array([4.0, 4.0]),
    }
    table = local_table(
        ["a", "b"],
        factors,
        data_gradients=g,
        design_moments=moments,
        point_names=["p"],
        point_gradients=np.array([[1.0, 2.0]]),
    )
    assert set(table["units"]) == {ORIGINAL, STANDARDISED}
    data = table[(table["source"] == "data rows") & (table["statistic"] == "mean")]
    orig = data[data["units"] == ORIGINAL].set_index("input")["value"]
    std = data[data["units"] == STANDARDISED].set_index("input")["value"]
    assert orig["a"] == 3.0 and orig["b"] == -8.0
    assert std["a"] == pytest.approx(1.5) and std["b"] == pytest.approx(-1.0)
    point = table[(table["source"] == "point: p") & (table["units"] == STANDARDISED)]
    assert list(point["value"]) == pytest.approx([0.5, 0.25])
