"""Training determinism, units of the saved model, fit metrics."""

import numpy as np
import pandas as pd
import pytest

from sensiflow.errors import SensiflowError
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


@pytest.fixture(scope="module")
def keras_models(tf, tmp_path_factory):
    from tests.pipeline import keras_files

    return keras_files(tmp_path_factory.mktemp("keras"))


def test_a_given_model_is_loaded_and_checked(keras_models):
    net = load_keras(keras_models["linear"], allow_unsafe=False, n_inputs=3)
    x = np.array([[1.0, 2.0, 3.0], [0.0, 0.0, 0.0]], dtype="float32")
    np.testing.assert_allclose(np.asarray(net(x)).ravel(), [1 - 4 + 9 + 0.5, 0.5])


def test_lambda_layers_need_explicit_permission(keras_models):
    with pytest.raises(SensiflowError) as err:
        load_keras(keras_models["lambda"], allow_unsafe=False, n_inputs=3)
    assert str(err.value) == (
        f"{keras_models['lambda']}: holds a Lambda layer (code stored in the file); set "
        "model.allow_unsafe: true only if you trust the file"
    )
    net = load_keras(keras_models["lambda"], allow_unsafe=True, n_inputs=3)
    x = np.array([[1.0, 2.0, 3.0]], dtype="float32")
    np.testing.assert_allclose(np.asarray(net(x)).ravel(), [6.5])


@pytest.mark.parametrize(
    ("name", "n_inputs", "words"),
    [
        ("linear", 4, "takes 3 inputs but the data have 4 (data.inputs)"),
        ("two_outputs", 3, "has 1 inputs and 2 outputs; sensiflow analyses one input vector"),
        ("two_units", 3, "output shape (None, 2) is not one value per row"),
        ("int_input", 3, "takes int32 inputs; sensiflow differentiates float32 or float64"),
    ],
)
def test_models_sensiflow_cannot_analyse_are_refused(keras_models, name, n_inputs, words):
    with pytest.raises(SensiflowError) as err:
        load_keras(keras_models[name], allow_unsafe=False, n_inputs=n_inputs)
    assert str(err.value).startswith(f"{keras_models[name]}: {words}")
    assert "\n" not in str(err.value)


@pytest.mark.parametrize(
    ("name", "content", "words"),
    [
        ("fake.keras", b"not a zip archive", "is not a Keras file (a .keras model is a zip"),
        ("empty.keras", b"", "is not a Keras file"),
        ("fake.h5", b"text", "is not an HDF5 file"),
        ("model.pt", b"\x80\x02", "expected a .keras (or legacy .h5) file, got '.pt'"),
    ],
)
def test_files_that_are_not_keras_models(tf, tmp_path, name, content, words):
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(SensiflowError) as err:
        load_keras(path, allow_unsafe=False, n_inputs=3)
    assert str(err.value).startswith(f"{path}: {words}")


def test_a_zip_that_holds_no_model_and_a_directory(tf, tmp_path):
    import zipfile

    with zipfile.ZipFile(tmp_path / "other.keras", "w") as archive:
        archive.writestr("notes.txt", "hello")
    with pytest.raises(
        SensiflowError, match=r"other.keras: is not a loadable Keras model: .*config"
    ):
        load_keras(tmp_path / "other.keras", allow_unsafe=False)
    (tmp_path / "saved.keras").mkdir()
    with pytest.raises(SensiflowError, match=r"saved.keras: is a directory, not a .keras file"):
        load_keras(tmp_path / "saved.keras", allow_unsafe=False)
