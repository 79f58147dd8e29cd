"""Import a MATLAB shallow network (``fitnet``, ``feedforwardnet``) as an equivalent Keras model.

The export format
-----------------
A ``.mat`` file (MATLAB v7 or earlier, read with :func:`scipy.io.loadmat`) or a ``.json`` file
(MATLAB ``jsonencode``) whose top-level fields are::

    IW                     net.IW{1,1}                  S1 x R input weights
    LW                     {net.LW{2,1}, net.LW{3,2}, ...}   layer weights, S(k+1) x S(k) each
    b                      net.b                        one bias vector per layer
    transferFcn            {net.layers{k}.transferFcn}  one name per layer
    inputProcessFcns       net.inputs{1}.processFcns       (optional)
    inputProcessSettings   net.inputs{1}.processSettings   (optional)
    outputProcessFcns      net.outputs{end}.processFcns    (optional)
    outputProcessSettings  net.outputs{end}.processSettings (optional)

The README shows the MATLAB lines that write it. Layers form a chain (input -> layer 1 -> ...
-> layer L -> output), as in ``fitnet`` and ``feedforwardnet``; the last layer has one unit.
Transfer functions: ``tansig`` (2 / (1 + exp(-2n)) - 1 = tanh n), ``logsig`` (1 / (1 + exp(-n))),
``purelin`` (n) and ``poslin`` (max(0, n)). Processing functions: ``mapminmax``
(``y = (x - xoffset) * gain + ymin``; reversed on the output, ``x = (y - ymin) / gain +
xoffset``) and ``removeconstantrows`` (keeps the rows ``keep``, 1-based).

The Keras model takes the R raw inputs in original units and returns the output in original
units. ``Dense`` layers hold ``IW'``, ``LW'`` and ``b`` with MATLAB's transfer functions; the
input processing is folded into the first of them (kernel rows ``gain_j * IW(:, j)'``, bias
``b{1} + IW * (ymin - gain .* xoffset)``; an input removed by ``removeconstantrows`` gets a zero
row), and a final linear ``Dense(1)`` layer, ``output_scaling``, undoes the output
``mapminmax`` (kernel ``1 / gain``, bias ``xoffset - ymin / gain``). All constants are weights,
so a float64 model reproduces MATLAB to rounding.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from sensiflow.errors import SensiflowError

TRANSFER_FUNCTIONS = {"tansig": "tanh", "logsig": "sigmoid", "purelin": "linear", "poslin": "relu"}
PROCESS_FUNCTIONS = ("mapminmax", "removeconstantrows")
REQUIRED_FIELDS = ("IW", "b", "transferFcn")


@dataclass(frozen=True)
class MatlabNetwork:
    """A MATLAB layer chain with its processing, resolved to arrays.

    Attributes
    ----------
    weights : list of ndarray
        ``IW`` then each ``LW``; entry k has shape (units of layer k, inputs of layer k).
    biases : list of ndarray
        One vector per layer.
    transfer : list of str
        MATLAB transfer function of each layer.
    n_inputs : int
        Raw inputs R, before ``removeconstantrows``.
    columns : ndarray of int
        Raw input (0-based) feeding each column of ``IW``.
    input_gain, input_offset : ndarray
        The input processing as ``IW``'s inputs = ``input_gain * x[columns] + input_offset``.
    output_scale, output_offset : float
        The reverse output processing: ``y = output_scale * a + output_offset``.
    """

    weights: list[np.ndarray]
    biases: list[np.ndarray]
    transfer: list[str]
    n_inputs: int
    columns: np.ndarray
    input_gain: np.ndarray
    input_offset: np.ndarray
    output_scale: float
    output_offset: float


def load_matlab_network(
    path: str | Path, *, n_inputs: int | None = None, dtype: str = "float32"
) -> Any:
    """Read a MATLAB network export and build the equivalent Keras model.

    Parameters
    ----------
    path : str or Path
        ``.mat`` or ``.json`` file in the format of this module's docstring.
    n_inputs : int, optional
        Number of inputs the data have; the network must take as many.
    dtype : {"float32", "float64"}
        Floating type of the Keras model.

    Returns
    -------
    keras.Model
        Maps (batch, R) raw inputs to (batch, 1) outputs, both in original units.

    Raises
    ------
    SensiflowError
        One line naming the file (and field) for an unreadable file, a missing field, wrong
        shapes, an unknown transfer or processing function, non-finite values, a network with
        more than one output, or an input count that differs from ``n_inputs``.
    """
    net = read_matlab_network(path)
    if n_inputs is not None and net.n_inputs != n_inputs:
        raise SensiflowError(
            str(path),
            f"the network takes {net.n_inputs} inputs but the data have {n_inputs} (data.inputs)",
        )
    return build_keras(net, dtype=dtype)


def read_matlab_network(path: str | Path) -> MatlabNetwork:
    """Read and check a MATLAB network export (see the module docstring)."""
    path = Path(path)
    fields = _read_fields(path)
    where = str(path)

    def fail(field: str, message: str) -> None:
        raise SensiflowError(where, f"{field}: {message}")

    missing = [f for f in REQUIRED_FIELDS if f not in fields]
    if missing:
        found = ", ".join(sorted(fields)) or "none"
        raise SensiflowError(
            where,
            f"missing field(s) {', '.join(missing)} (found: {found}); export the network "
            "with the MATLAB lines in the README",
        )
    transfer = _strings(fields["transferFcn"], "transferFcn", fail)
    n_layers = len(transfer)
    if n_layers == 0:
        fail("transferFcn", "names no layer")
    for k, name in enumerate(transfer):
        if name not in TRANSFER_FUNCTIONS:
            fail(
                f"transferFcn{{{k + 1}}}",
                f"unknown transfer function {name!r} (supported: {', '.join(TRANSFER_FUNCTIONS)})",
            )
    biases = _biases(fields["b"], n_layers, fail)
    sizes = [len(b) for b in biases]
    if sizes[-1] != 1:
        fail(
            f"b{{{n_layers}}}",
            f"the output layer has {sizes[-1]} units; sensiflow analyses a network with one output",
        )
    iw = _matrix(fields["IW"], "IW", rows=sizes[0], cols=None, fail=fail)
    if n_layers > 1 and "LW" not in fields:
        fail("LW", f"missing; {n_layers} layers need {n_layers - 1} layer weight matrices")
    layer_weights = _per_layer(fields.get("LW"), n_layers - 1, "LW", fail)
    weights = [iw]
    for k, value in enumerate(layer_weights):
        weights.append(
            _matrix(value, f"LW{{{k + 1}}}", rows=sizes[k + 1], cols=sizes[k], fail=fail)
        )
    gain, offset, columns, n_raw = _input_processing(fields, iw.shape[1], fail)
    scale, shift = _output_processing(fields, fail)
    return MatlabNetwork(
        weights, biases, transfer, n_raw, columns, gain, offset, float(scale), float(shift)
    )


def build_keras(net: MatlabNetwork, *, dtype: str = "float32") -> Any:
    """The Keras model computing the same function as ``net`` (see the module docstring).

    The input processing is folded into the first ``Dense`` layer and the reverse output
    processing is a ``Dense(1)`` layer of its own, so every constant is a weight held in
    ``dtype`` (Keras' ``Normalization`` and ``Rescaling`` would round theirs to float32).
    """
    import keras

    kernels, biases = [w.T.copy() for w in net.weights], [b.copy() for b in net.biases]
    # layer 1 sees gain * x[columns] + offset:  IW (gain x + offset) + b
    first = np.zeros((net.n_inputs, kernels[0].shape[1]))
    first[net.columns] = kernels[0] * net.input_gain[:, None]
    biases[0] = biases[0] + net.weights[0] @ net.input_offset
    kernels[0] = first
    kernels.append(np.array([[net.output_scale]]))
    biases.append(np.array([net.output_offset]))
    names = [f"layer{k + 1}_{t}" for k, t in enumerate(net.transfer)] + ["output_scaling"]
    activations = [TRANSFER_FUNCTIONS[t] for t in net.transfer] + ["linear"]

    inputs = keras.Input((net.n_inputs,), dtype=dtype, name="x")
    h, layers = inputs, []
    for kernel, name, activation in zip(kernels, names, activations, strict=True):
        layer = keras.layers.Dense(kernel.shape[1], activation=activation, name=name, dtype=dtype)
        h = layer(h)
        layers.append(layer)
    model = keras.Model(inputs, h, name="matlab_network")
    for layer, kernel, bias in zip(layers, kernels, biases, strict=True):
        layer.set_weights([kernel, bias])
    return model


# --------------------------------------------------------------------------- reading


def _read_fields(path: Path) -> dict[str, Any]:
    where = str(path)
    if path.is_dir():
        raise SensiflowError(where, "is a directory, not a network export (model.path)")
    if not path.exists():
        raise SensiflowError(where, "model file not found (model.path)")
    suffix = path.suffix.lower()
    if suffix not in (".mat", ".json"):
        raise SensiflowError(
            where,
            f"expected a MATLAB export ending in .mat or .json, got "
            f"{path.suffix or 'no suffix'!r} (model.path)",
        )
    try:
        fields = _read_mat(path) if suffix == ".mat" else _read_json(path)
    except PermissionError:
        raise SensiflowError(where, "cannot be read: permission denied") from None
    if not isinstance(fields, dict):
        raise SensiflowError(where, "must hold one object (struct) of named fields")
    if len(fields) == 1 and isinstance(next(iter(fields.values())), dict):
        # save('net.mat', 's') without -struct: the fields sit inside one struct
        inner = next(iter(fields.values()))
        if "IW" in inner:
            fields = inner
    return fields


def _read_mat(path: Path) -> dict[str, Any]:
    from scipy.io import loadmat

    where = str(path)
    with open(path, "rb") as fh:
        head = fh.read(128)
    if b"MATLAB 7.3" in head or head[:8] == b"\x89HDF\r\n\x1a\n":
        raise SensiflowError(
            where,
            "is a MATLAB v7.3 (HDF5) file; save it with save(..., '-v7') or export JSON",
        )
    try:
        raw = loadmat(path, simplify_cells=True)
    except Exception as exc:  # scipy raises several types for a file that is not a .mat
        text = " ".join(str(exc).split())[:120]
        raise SensiflowError(where, f"is not a readable MATLAB .mat file ({text})") from None
    return {k: v for k, v in raw.items() if not k.startswith("__")}


def _read_json(path: Path) -> Any:
    where = str(path)
    try:
        with open(path, encoding="utf-8-sig") as fh:
            return json.load(fh)
    except UnicodeDecodeError:
        raise SensiflowError(where, "is not a UTF-8 text file") from None
    except json.JSONDecodeError as exc:
        raise SensiflowError(
            where, f"is not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})"
        ) from None


# --------------------------------------------------------------------------- fields


def _strings(value: Any, field: str, fail: Any) -> list[str]:
    items = [value] if isinstance(value, str) else _items(value)
    if items is None or not all(isinstance(s, str) for s in items):
        fail(field, "expected a name or a cell array of names")
    return [s.strip() for s in items]


def _items(value: Any) -> list[Any] | None:
    """A cell array as a list (None when ``value`` is not one)."""
    if isinstance(value, list | tuple):
        return list(value)
    if isinstance(value, np.ndarray) and (value.dtype == object or value.size == 0):
        return list(value.ravel())
    if isinstance(value, np.ndarray) and value.dtype.kind in "US":
        return [str(s) for s in value.ravel()]
    return None


def _numbers(value: Any, field: str, fail: Any) -> np.ndarray:
    try:
        array = np.asarray(value if value is not None else np.nan, dtype=float)
    except (TypeError, ValueError):
        fail(field, "expected numbers (a matrix or vector)")
    if not np.isfinite(array).all():
        fail(field, "holds NaN or infinite values (jsonencode writes them as null)")
    return array


def _biases(value: Any, n_layers: int, fail: Any) -> list[np.ndarray]:
    if n_layers == 1:
        items = [value]
    else:
        items = _items(value)
        if items is None and isinstance(value, np.ndarray) and value.ndim >= 1:
            items = list(value)
        if items is None or len(items) != n_layers:
            count = "one value" if items is None else f"{len(items)} entries"
            fail("b", f"has {count} but transferFcn names {n_layers} layers (one bias each)")
    biases = []
    for k, item in enumerate(items):
        b = _numbers(item, f"b{{{k + 1}}}", fail).ravel()
        if b.size == 0:
            fail(f"b{{{k + 1}}}", "is empty; every layer needs a bias vector")
        biases.append(b)
    return biases


def _per_layer(value: Any, count: int, field: str, fail: Any) -> list[Any]:
    if count == 0:
        return []
    if count == 1:
        items = _items(value)
        # one matrix, or a one-element cell holding it
        if items is not None and len(items) == 1 and np.ndim(items[0]) >= 1:
            return [items[0]]
        return [value]
    items = _items(value)
    if items is None and isinstance(value, np.ndarray) and value.ndim == 3:
        items = list(value)  # jsonencode merges a cell of equal-sized matrices into one array
    if items is None or len(items) != count:
        got = "one matrix" if items is None else f"{len(items)} matrices"
        fail(field, f"has {got}; {count + 1} layers need {count} (net.LW{{k+1,k}} for each k)")
    return items


def _matrix(value: Any, field: str, *, rows: int, cols: int | None, fail: Any) -> np.ndarray:
    """A weight matrix of shape (rows, cols); a vector is accepted where one size is 1."""
    array = _numbers(value, field, fail)
    while array.ndim > 2 and array.shape[0] == 1:
        array = array[0]  # a one-element cell around the matrix
    want = f"{rows}x{cols if cols is not None else 'inputs'}"
    if array.ndim > 2:
        fail(field, f"has {array.ndim} dimensions; expected a {want} matrix")
    if array.ndim == 2:
        if array.shape[0] != rows or (cols is not None and array.shape[1] != cols):
            fail(
                field,
                f"has shape {array.shape[0]}x{array.shape[1]}; expected {want} (rows: the "
                "layer's units, as many as its bias; columns: the layer's inputs)",
            )
        return array
    size = array.size
    if size == 0 or size % rows or (cols is not None and size != rows * cols):
        fail(field, f"has {size} values; expected a {want} matrix")
    return array.reshape(rows, size // rows)


# --------------------------------------------------------------------------- processing


def _process_steps(fields: dict[str, Any], side: str, fail: Any) -> list[tuple[str, dict]]:
    fcns_key, settings_key = f"{side}ProcessFcns", f"{side}ProcessSettings"
    if fcns_key not in fields and settings_key not in fields:
        return []
    names = _strings(fields.get(fcns_key, []), fcns_key, fail)
    raw = fields.get(settings_key, [])
    settings = [raw] if isinstance(raw, dict) else _items(raw)
    if settings is None or len(settings) != len(names):
        count = "none" if settings is None else len(settings)
        fail(settings_key, f"has {count} entries for {len(names)} functions in {fcns_key}")
    steps = []
    for i, (name, setting) in enumerate(zip(names, settings, strict=True)):
        if name not in PROCESS_FUNCTIONS:
            fail(
                f"{fcns_key}{{{i + 1}}}",
                f"unsupported processing function {name!r} "
                f"(supported: {', '.join(PROCESS_FUNCTIONS)})",
            )
        if not isinstance(setting, dict):
            fail(f"{settings_key}{{{i + 1}}}", f"expected the {name} settings struct")
        steps.append((name, setting))
    return steps


def _setting(settings: dict, key: str, field: str, rows: int, fail: Any) -> np.ndarray:
    if key not in settings:
        fail(field, f"lacks {key!r}")
    values = _numbers(settings[key], f"{field}.{key}", fail).ravel()
    if values.size == 1:
        values = np.full(rows, values[0])
    if values.size != rows:
        fail(f"{field}.{key}", f"has {values.size} values for {rows} rows")
    return values


def _input_processing(
    fields: dict[str, Any], n_columns: int, fail: Any
) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
    """Compose the input processing steps, in MATLAB's order, into one map per IW column:
    ``gain * x[column] + offset``.

    Returns gain, offset and raw input (0-based) of each IW column, and the raw input count.
    """
    steps = _process_steps(fields, "input", fail)
    n_raw = _raw_input_count(steps, n_columns, fail)
    columns = np.arange(n_raw)
    gain, offset = np.ones(n_raw), np.zeros(n_raw)
    for i, (name, s) in enumerate(steps):
        field = f"inputProcessSettings{{{i + 1}}}"
        rows = len(columns)
        if "xrows" in s and (n := _count(s["xrows"], f"{field}.xrows", fail)) != rows:
            fail(f"{field}.xrows", f"is {n} but {rows} rows reach this step")
        if name == "mapminmax":
            g = _setting(s, "gain", field, rows, fail)
            if (g == 0).any():
                fail(f"{field}.gain", "an input's gain is 0")
            x0 = _setting(s, "xoffset", field, rows, fail)
            y0 = _setting(s, "ymin", field, rows, fail)
            gain, offset = g * gain, g * (offset - x0) + y0
        else:
            keep = _keep(s, field, rows, fail)
            columns, gain, offset = columns[keep], gain[keep], offset[keep]
    if len(columns) != n_columns:
        fail("IW", f"has {n_columns} columns but the input processing passes {len(columns)} rows")
    return gain, offset, columns, n_raw


def _raw_input_count(steps: list[tuple[str, dict]], n_columns: int, fail: Any) -> int:
    """Raw inputs: the first step's xrows, or IW's columns when nothing removes rows."""
    for i, (name, s) in enumerate(steps):
        if "xrows" in s:
            return _count(s["xrows"], f"inputProcessSettings{{{i + 1}}}.xrows", fail)
        if name == "removeconstantrows":
            fail(f"inputProcessSettings{{{i + 1}}}", "lacks 'xrows' (the number of raw inputs)")
    return n_columns


def _count(value: Any, field: str, fail: Any) -> int:
    n = _numbers(value, field, fail).ravel()
    if n.size != 1 or n[0] != round(n[0]) or n[0] < 1:
        fail(field, "expected a positive whole number")
    return int(n[0])


def _keep(s: dict, field: str, rows: int, fail: Any) -> np.ndarray:
    if "keep" not in s:
        fail(field, "lacks 'keep'")
    keep = _numbers(s["keep"], f"{field}.keep", fail).ravel()
    if keep.size == 0 or (keep != np.round(keep)).any() or keep.min() < 1 or keep.max() > rows:
        fail(f"{field}.keep", f"must list row numbers between 1 and {rows}")
    return keep.astype(int) - 1


def _output_processing(fields: dict[str, Any], fail: Any) -> tuple[float, float]:
    """The reverse output processing as y = scale * a + offset (steps undone last first)."""
    scale, offset = 1.0, 0.0
    steps = _process_steps(fields, "output", fail)
    for i, (name, s) in reversed(list(enumerate(steps))):
        field = f"outputProcessSettings{{{i + 1}}}"
        if name == "mapminmax":
            g = _setting(s, "gain", field, 1, fail)[0]
            if g == 0:
                fail(f"{field}.gain", "is 0")
            x0 = _setting(s, "xoffset", field, 1, fail)[0]
            y0 = _setting(s, "ymin", field, 1, fail)[0]
            # x = (a - ymin) / gain + xoffset, applied after the later steps' reversal
            scale, offset = scale / g, (offset - y0) / g + x0
        elif _numbers(s.get("keep", 1), f"{field}.keep", fail).ravel().tolist() != [1]:
            fail(f"{field}.keep", "the output was removed as a constant row; nothing to analyse")
    return scale, offset
