"""Training determinism, units of the saved model, fit metrics."""

import numpy as np
import pandas as pd
import pytest

from sensiflow.model import fit_metrics, load_keras, train_network

SETTINGS = {
    "hidden_units": 15,
    "activation": "tanh",
    "epochs": 4,
    "batch_size": 64,
    "learning_rate": 0.003,
    "patience": 10,
    "validation_fraction": 0.2,
}


@pytest.fixture(scope="module")
def lin_rows(lin11):
    rng = np.random.default_rng(0)
    lo, hi = lin11.bounds[:, 0], lin11.bounds[:, 1]
    x = lo + (hi - lo) * rng.random((2000, 11))
    frame = pd.DataFrame(x, columns=lin11.input_names)
    frame["y"] = lin11(x) * 10 + 100  # target far from zero mean, unit variance
    return frame


def test_same_seed_same_weights_other_seed_other_weights(tf, lin_rows, lin11):
    names = lin11.input_names
    a, _ = train_network(lin_rows, names, "y", SETTINGS, seed=7)
    b, _ = train_network(lin_rows, names, "y", SETTINGS, seed=7)
    c, _ = train_network(lin_rows, names, "y", SETTINGS, seed=8)
    for wa, wb in zip(a.get_weights(), b.get_weights(), strict=True):
        np.testing.assert_array_equal(wa, wb)
    assert not np.allclose(
        a.get_layer("hidden").get_weights()[0], c.get_layer("hidden").get_weights()[0]
    )


def test_saved_model_takes_and_returns_original_units(tf, lin_rows, lin11, tmp_path):
    names = lin11.input_names
    net, history = train_network(lin_rows, names, "y", {**SETTINGS, "epochs": 30}, seed=1)
    assert list(history.columns) == ["epoch", "loss", "val_loss"]
    path = tmp_path / "m.keras"
    net.save(path)
    loaded = load_keras(path, allow_unsafe=False, n_inputs=11)
    x = lin_rows[names].to_numpy("float32")[:200]
    pred = np.asarray(loaded(x)).ravel()
    # the scaling layers are inside: predictions come back in the target's units
    assert fit_metrics(lin_rows["y"][:200], pred)["r2"] > 0.95
    assert abs(pred.mean() - lin_rows["y"][:200].mean()) < 1.0


def test_fit_metrics():
    m = fit_metrics(np.array([1.0, 2.0, 3.0, 4.0]), np.array([1.0, 2.0, 3.0, 5.0]))
    assert m["rmse"] == pytest.approx(0.5)
    assert m["mae"] == pytest.approx(0.25)
    assert m["r2"] == pytest.approx(1 - 1 / 5)
