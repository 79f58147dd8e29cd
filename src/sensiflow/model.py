"""The model under analysis: train the Keras network, load a user's Keras file, or stand in an
analytic function; report fit quality; rebuild the model as TensorFlow ops for evaluation.

A trained network carries its own input standardisation (a ``Normalization`` layer) and
output rescaling (a ``Rescaling`` layer), so the saved ``.keras`` file takes inputs and returns
outputs in original units, and every gradient is dy/dx in original units.
"""

from __future__ import annotations

import logging
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sensiflow.data import holdout_mask
from sensiflow.errors import SensiflowError
from sensiflow.functions import make_function, tensorflow_ops

log = logging.getLogger(__name__)


def build_network(
    n_inputs: int,
    *,
    hidden_units: int,
    activation: str,
    x_mean: np.ndarray,
    x_sd: np.ndarray,
    y_mean: float,
    y_sd: float,
    dtype: str = "float32",
) -> Any:
    """A one-hidden-layer regression network with scaling inside.

    Layers: ``Normalization`` ((x - mean) / sd) -> ``Dense(hidden_units, activation)`` ->
    ``Dense(1)`` -> ``Rescaling`` (y_sd * h + y_mean).
    """
    import keras

    inputs = keras.Input((n_inputs,), dtype=dtype, name="x")
    h = keras.layers.Normalization(
        mean=np.asarray(x_mean).tolist(),
        variance=(np.asarray(x_sd) ** 2).tolist(),
        name="input_scaling",
        dtype=dtype,
    )(inputs)
    h = keras.layers.Dense(hidden_units, activation=activation, name="hidden", dtype=dtype)(h)
    h = keras.layers.Dense(1, name="output", dtype=dtype)(h)
    y = keras.layers.Rescaling(
        scale=float(y_sd), offset=float(y_mean), name="output_scaling", dtype=dtype
    )(h)
    return keras.Model(inputs, y, name="sensiflow_network")


def train_network(
    train: pd.DataFrame,
    inputs: list[str],
    target: str,
    settings: dict[str, Any],
    *,
    seed: int,
    dtype: str = "float32",
) -> tuple[Any, pd.DataFrame]:
    """Train the network with Adam and early stopping on a held-out validation part.

    Seeds Python, NumPy and TensorFlow with ``seed`` and uses deterministic ops, so the same
    seed gives the same weights on the same machine.

    Returns
    -------
    model : keras.Model
    history : DataFrame with columns epoch, loss, val_loss (mean squared error, original units)
    """
    import keras

    keras.utils.set_random_seed(seed)
    is_val = holdout_mask(train[inputs + [target]], settings["validation_fraction"], seed)
    x = train[inputs].to_numpy(dtype=dtype)
    y = train[target].to_numpy(dtype=dtype)
    model = build_network(
        len(inputs),
        hidden_units=settings["hidden_units"],
        activation=settings["activation"],
        x_mean=x[~is_val].mean(axis=0),
        x_sd=x[~is_val].std(axis=0),
        y_mean=float(y[~is_val].mean()),
        y_sd=float(y[~is_val].std()),
        dtype=dtype,
    )
    model.compile(optimizer=keras.optimizers.Adam(settings["learning_rate"]), loss="mse")
    stop = keras.callbacks.EarlyStopping(
        monitor="val_loss", patience=settings["patience"], restore_best_weights=True
    )
    fit = model.fit(
        x[~is_val],
        y[~is_val],
        validation_data=(x[is_val], y[is_val]),
        epochs=settings["epochs"],
        batch_size=settings["batch_size"],
        shuffle=True,
        callbacks=[stop],
        verbose=0,
    )
    history = pd.DataFrame(
        {
            "epoch": np.arange(1, len(fit.history["loss"]) + 1),
            "loss": fit.history["loss"],
            "val_loss": fit.history["val_loss"],
        }
    )
    log.info(
        "trained seed %d: %d epochs, best validation MSE %.4g",
        seed,
        len(history),
        history["val_loss"].min(),
    )
    return model, history


def fit_metrics(y_true: np.ndarray, y_pred: np.ndarray) -> dict[str, float]:
    """R^2, RMSE and MAE (original units) of predictions."""
    y_true, y_pred = np.asarray(y_true, float), np.asarray(y_pred, float)
    resid = y_true - y_pred
    ss_tot = float(((y_true - y_true.mean()) ** 2).sum())
    return {
        "r2": 1.0 - float((resid**2).sum()) / ss_tot if ss_tot > 0 else float("nan"),
        "rmse": float(np.sqrt((resid**2).mean())),
        "mae": float(np.abs(resid).mean()),
        "rows": len(y_true),
    }


def load_keras(path: str | Path, *, allow_unsafe: bool, n_inputs: int | None = None) -> Any:
    """Load a user's Keras model in safe mode and check it maps ``n_inputs`` to one output.

    Parameters
    ----------
    path : str or Path
        A ``.keras`` file (or a legacy ``.h5`` file).
    allow_unsafe : bool
        Load a model whose ``Lambda`` layers hold Python code (runs that code).
    n_inputs : int, optional
        Number of inputs the data have; the model must take as many.

    Returns
    -------
    keras.Model
        One float input of shape (batch, n_inputs), one output of shape (batch,) or (batch, 1).

    Raises
    ------
    SensiflowError
        Naming the file: missing, a directory, not a Keras file, a ``Lambda`` layer without
        ``allow_unsafe``, several inputs or outputs, an input that is not a float vector, or a
        wrong input count.
    """
    import keras

    path = Path(path)
    where = str(path)
    _check_keras_file(path)
    try:
        net = keras.saving.load_model(path, safe_mode=not allow_unsafe, compile=False)
    except Exception as exc:  # Keras raises many types for a bad file; report them as one
        text = " ".join(str(exc).split())
        if "Lambda" in text or "safe_mode" in text:
            raise SensiflowError(
                where,
                "holds a Lambda layer (code stored in the file); set "
                "model.allow_unsafe: true only if you trust the file",
            ) from None
        raise SensiflowError(where, f"is not a loadable Keras model: {text[:200]}") from None
    try:
        net.inputs  # noqa: B018  (a Sequential model saved unbuilt has none)
    except (AttributeError, ValueError):
        raise SensiflowError(
            where,
            "has no defined inputs (a Sequential model saved before it was built): "
            "start it with keras.Input((n_inputs,)) and save it again",
        ) from None
    if len(net.inputs) != 1 or len(net.outputs) != 1:
        raise SensiflowError(
            where,
            f"has {len(net.inputs)} inputs and {len(net.outputs)} "
            "outputs; sensiflow analyses one input vector, one output",
        )
    shape_in, shape_out = tuple(net.inputs[0].shape), tuple(net.outputs[0].shape)
    if len(shape_in) != 2:
        raise SensiflowError(where, f"input shape {shape_in} is not (batch, inputs)")
    dtype = str(net.inputs[0].dtype).replace("tf.", "")
    if dtype not in ("float32", "float64"):
        raise SensiflowError(
            where, f"takes {dtype} inputs; sensiflow differentiates float32 or float64 inputs"
        )
    if n_inputs is not None and shape_in[-1] != n_inputs:
        raise SensiflowError(
            where, f"takes {shape_in[-1]} inputs but the data have {n_inputs} (data.inputs)"
        )
    if shape_out[1:] not in ((), (1,)):
        raise SensiflowError(where, f"output shape {shape_out} is not one value per row")
    return net


def _check_keras_file(path: Path) -> None:
    """Refuse a path that cannot hold a Keras model before Keras reads it."""
    where = str(path)
    if path.is_dir():
        raise SensiflowError(
            where, "is a directory, not a .keras file (re-save the model with model.save)"
        )
    if not path.exists():
        raise SensiflowError(where, "model file not found (model.path)")
    if path.suffix not in (".keras", ".h5"):
        raise SensiflowError(
            where,
            f"expected a .keras (or legacy .h5) file, got "
            f"{path.suffix or 'no suffix'!r} (model.path)",
        )
    try:
        with open(path, "rb") as fh:
            head = fh.read(8)
    except PermissionError:
        raise SensiflowError(where, "cannot be read: permission denied") from None
    if path.suffix == ".keras" and not zipfile.is_zipfile(path):
        raise SensiflowError(
            where, "is not a Keras file (a .keras model is a zip archive written by model.save)"
        )
    if path.suffix == ".h5" and head != b"\x89HDF\r\n\x1a\n":
        raise SensiflowError(where, "is not an HDF5 file (a legacy Keras .h5 model)")


def model_callable(
    card: dict[str, Any], model_dir: str | Path, *, net: Any = None
) -> tuple[Callable, str]:
    """TensorFlow function of the model described by a model card, and its input dtype.

    ``net``, when given, is the card's Keras model already in memory (not read again).

    Declared external scaling is applied with TensorFlow ops, inside any gradient tape:
    the network sees ``(x - center) / scale`` and the output is ``y * scale + center``.
    """
    import tensorflow as tf

    if card["source"] == "function":
        dtype = card["dtype"]
        function = make_function(card["function"])
        ops = tensorflow_ops(getattr(tf, dtype))

        def core(x):
            return function.apply(x, ops)
    else:
        if net is None:
            net = load_keras(Path(model_dir) / card["file"], allow_unsafe=card["allow_unsafe"])
        dtype = str(net.inputs[0].dtype).replace("tf.", "")

        def core(x):
            return tf.reshape(net(x, training=False), [-1])

    in_scale, out_scale = card.get("input_scaling"), card.get("output_scaling")
    if in_scale is None and out_scale is None:
        return core, dtype
    tf_dtype = getattr(tf, dtype)

    def scaled(x):
        if in_scale is not None:
            x = (x - tf.constant(in_scale["center"], tf_dtype)) / tf.constant(
                in_scale["scale"], tf_dtype
            )
        y = core(x)
        if out_scale is not None:
            y = y * tf.constant(out_scale["scale"], tf_dtype) + tf.constant(
                out_scale["center"], tf_dtype
            )
        return y

    return scaled, dtype
