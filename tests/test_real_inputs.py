"""What users bring, end to end through the command-line steps: their own CSV with their own
Keras model and external scaling, a MATLAB network, and non-uniform input distributions."""

import json
import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from tests.pipeline import FILES, SMALL, leftovers, run_all

COEF = np.array([2.0, -3.0, 0.05])


def _load(workdir, name):
    path = workdir / FILES[name]
    if path.suffix == ".json":
        return json.loads(path.read_text())
    if path.suffix == ".csv":
        return pd.read_csv(path)
    return np.load(path)


def test_own_csv_and_keras_model_with_scaling_outside_the_model(tf, tmp_path):
    """The network works in scaled units; the config declares the scaling; gradients come out
    as dy/dx in original units, so the scaling was applied inside the tape."""
    import keras

    rng = np.random.default_rng(0)
    x = np.column_stack(
        [rng.uniform(10, 20, 400), rng.uniform(-1, 1, 400), rng.uniform(100, 300, 400)]
    )
    frame = pd.DataFrame(x, columns=["temperature", "pressure", "flow"])
    frame["yield"] = x @ COEF + 5.0
    frame.to_csv(tmp_path / "measurements.csv", sep=";", index=False)
    center, scale = np.array([15.0, 0.0, 200.0]), np.array([5.0, 1.0, 100.0])
    # y = 10 * (w . (x - center) / scale + b0) + 40  equals  COEF . x + 5
    inputs = keras.Input((3,))
    dense = keras.layers.Dense(1)
    model = keras.Model(inputs, dense(inputs))
    dense.set_weights([(COEF * scale / 10.0)[:, None], np.array([0.5])])
    model.save(tmp_path / "own.keras")
    settings = {
        "data": {"path": str(tmp_path / "measurements.csv"), "sep": ";", "target": "yield"},
        "model": {
            "path": str(tmp_path / "own.keras"),
            "input_scaling": {"center": center.tolist(), "scale": scale.tolist()},
            "output_scaling": {"center": 40.0, "scale": 10.0},
        },
        **SMALL,
    }
    work = tmp_path / "results"
    run_all(["data", "space", "designs", "model", "evaluate", "indices"], work, settings)
    card = _load(work, "card")
    assert card["source"] == "keras" and card["input_scaling"]["scale"] == scale.tolist()
    assert _load(work, "fit")["test"]["r2"] > 1 - 1e-9
    gradients = _load(work, "gradients")["data"]
    assert gradients.shape == (400, 3)
    np.testing.assert_allclose(gradients, np.broadcast_to(COEF, (400, 3)), rtol=1e-5)
    dgsm = _load(work, "dgsm-table")
    np.testing.assert_allclose(dgsm["nu"], COEF**2, rtol=1e-5)
    assert leftovers(work) == []


def test_matlab_network_through_the_steps(tf, tmp_path):
    from tests.test_matlab import matlab_gradient, matlab_sim, random_net, write_mat

    net = random_net(21)
    rng = np.random.default_rng(2)
    x = net["xmin"] + (net["xmax"] - net["xmin"]) * rng.random((300, 5))
    frame = pd.DataFrame(x, columns=[f"u{i}" for i in range(1, 6)])
    frame["y"] = matlab_sim(net, x)
    frame.to_csv(tmp_path / "data.csv", index=False)
    settings = {
        "data": {"path": str(tmp_path / "data.csv"), "target": "y"},
        "model": {"path": str(write_mat(net, tmp_path / "net.mat"))},
        "evaluation": {"dtype": "float64", "batch_size": 256},
        "sobol": SMALL["sobol"],
        "morris": SMALL["morris"],
    }
    work = tmp_path / "results"
    run_all(["data", "space", "designs", "model", "evaluate"], work, settings)
    assert _load(work, "card")["source"] == "matlab"
    assert _load(work, "fit")["test"]["r2"] == pytest.approx(1.0, abs=1e-12)
    rows = pd.concat([_load(work, "train"), _load(work, "test")])[frame.columns[:5]].to_numpy()
    expected = matlab_gradient(net, rows)
    np.testing.assert_allclose(_load(work, "gradients")["data"], expected, rtol=1e-9, atol=1e-12)


NON_UNIFORM = {
    "x1": {"dist": "normal", "mean": 0.5, "sd": 0.1},
    "x2": {"dist": "lognormal", "log_mean": 0.0, "log_sd": 0.25},
    "x3": {"dist": "triangular", "lower": 0.0, "mode": 0.2, "upper": 1.0},
    "x4": {"dist": "truncnormal", "lower": 0.0, "upper": 1.0, "mean": 0.8, "sd": 0.5},
    "x5": {"dist": "loguniform", "lower": 0.1, "upper": 10.0},
}
C5 = np.array([1.0, -2.0, 3.0, 0.5, 0.25])


def _variances():
    s2 = NON_UNIFORM["x2"]["log_sd"] ** 2
    a, c, b = 0.0, 0.2, 1.0
    return np.array(
        [
            0.1**2,
            (math.exp(s2) - 1) * math.exp(s2),
            (a * a + b * b + c * c - a * b - a * c - b * c) / 18,
            stats.truncnorm((0 - 0.8) / 0.5, (1 - 0.8) / 0.5, loc=0.8, scale=0.5).var(),
            stats.loguniform(0.1, 10.0).var(),
        ]
    )


def test_non_uniform_inputs_end_to_end(tf, tmp_path):
    """Named distributions reach the designs, the indices and the DGSM bounds: a linear
    function gives S1_i = c_i^2 Var(x_i) / sum_j c_j^2 Var(x_j), nu_i = c_i^2, and a bound only
    where the distribution has a Poincare constant."""
    settings = {
        "function": {"name": "linear", "coefficients": C5.tolist(), "bounds": [[0, 1]] * 5},
        "data": {"source": "function", "rows": 200},
        "model": {"source": "function"},
        "space": {"inputs": NON_UNIFORM},
        "sobol": {"base_samples": 2048, "resamples": 10, "second_order": False},
        "morris": {"trajectories": 20, "resamples": 10},
        "evaluation": {"dtype": "float64", "batch_size": 4096},
    }
    work = tmp_path / "results"
    run_all(["data", "space", "designs", "model", "evaluate", "indices"], work, settings)
    summary = _load(work, "design-summary").set_index(["design", "input"])
    assert summary.loc[("sobol", "x1"), "mean"] == pytest.approx(0.5, abs=0.002)
    assert summary.loc[("sobol", "x1"), "sd"] == pytest.approx(0.1, rel=0.02)
    assert summary.loc[("sobol", "x2"), "mean"] == pytest.approx(math.exp(0.25**2 / 2), rel=0.01)
    morris_x = _load(work, "morris")["x"]
    assert np.isfinite(morris_x).all()  # unbounded inputs: levels at cell centres, never +-inf
    assert (
        (morris_x[:, 1] > 0).all() and (morris_x[:, 3] >= 0).all() and (morris_x[:, 3] <= 1).all()
    )
    assert (morris_x[:, 4] >= 0.1).all() and (morris_x[:, 4] <= 10).all()
    share = C5**2 * _variances()
    sobol = _load(work, "sobol-table")
    s1 = sobol[sobol["index"] == "S1"].set_index("input")["estimate"]
    np.testing.assert_allclose(s1.to_numpy(), share / share.sum(), atol=0.02)
    dgsm = _load(work, "dgsm-table").set_index("input")
    np.testing.assert_allclose(dgsm["nu"], C5**2, rtol=1e-12)
    assert dgsm.loc["x1", "poincare_constant"] == pytest.approx(0.01)
    assert dgsm["bound"].isna().tolist() == [False, True, False, False, True]
    assert "no bound" in dgsm.loc["x2", "constant_rule"]
    assert (dgsm["bound"].dropna() >= dgsm["ST"][dgsm["bound"].notna()] - 0.02).all()
