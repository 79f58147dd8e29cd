"""MATLAB shallow networks: the imported Keras model against MATLAB's own formulas.

The reference below is written from MATLAB's definitions, in numpy and float64, column-wise as
MATLAB computes (inputs are rows, samples are columns): removeconstantrows keeps rows ``keep``;
mapminmax applies ``(x - xoffset) .* gain + ymin`` and reverses ``(y - ymin) ./ gain + xoffset``;
tansig(n) = 2 / (1 + exp(-2n)) - 1, logsig(n) = 1 / (1 + exp(-n)), purelin(n) = n,
poslin(n) = max(0, n). Fixtures are written by the tests in the layout MATLAB's ``save`` and
``jsonencode`` produce (cells as MATLAB cell arrays, structs as structs).
"""

import json

import numpy as np
import pytest
from scipy.io import savemat

from sensiflow.errors import SensiflowError
from sensiflow.matlab import load_matlab_network, read_matlab_network

TRANSFER = {
    "tansig": lambda n: 2 / (1 + np.exp(-2 * n)) - 1,
    "logsig": lambda n: 1 / (1 + np.exp(-n)),
    "purelin": lambda n: n,
    "poslin": lambda n: np.maximum(0, n),
}
DERIVATIVE = {
    "tansig": lambda n: 1 - TRANSFER["tansig"](n) ** 2,
    "logsig": lambda n: TRANSFER["logsig"](n) * (1 - TRANSFER["logsig"](n)),
    "purelin": lambda n: np.ones_like(n),
    "poslin": lambda n: (n > 0).astype(float),
}


def mapminmax_settings(xmin, xmax, ymin=-1.0, ymax=1.0):
    """Settings as MATLAB's mapminmax.create computes them (column vectors)."""
    xmin, xmax = np.asarray(xmin, float), np.asarray(xmax, float)
    col = lambda v: np.asarray(v, float).reshape(-1, 1)  # noqa: E731
    return {
        "name": "mapminmax",
        "xrows": float(len(xmin)),
        "xmax": col(xmax),
        "xmin": col(xmin),
        "xrange": col(xmax - xmin),
        "yrows": float(len(xmin)),
        "ymax": ymax,
        "ymin": ymin,
        "yrange": ymax - ymin,
        "gain": col((ymax - ymin) / (xmax - xmin)),
        "xoffset": col(xmin),
        "no_change": 0.0,
    }


def removeconstantrows_settings(n_rows, remove):
    keep = [i for i in range(1, n_rows + 1) if i not in remove]
    return {
        "max_range": 0.0,
        "keep": np.array([keep], float),
        "remove": np.array([list(remove)], float).reshape(1, -1),
        "value": np.zeros((len(remove), 1)),
        "xrows": float(n_rows),
        "yrows": float(len(keep)),
        "constants": np.zeros((len(remove), 1)),
        "no_change": float(not remove),
    }


def random_net(seed=0, *, n_inputs=5, hidden=(8,), transfer=None, remove=(), ymin=-1.0, ymax=1.0):
    """A fitnet-like network: weights, biases and the processing of inputs and output."""
    rng = np.random.default_rng(seed)
    transfer = list(transfer or ["tansig"] * len(hidden) + ["purelin"])
    kept = n_inputs - len(remove)
    sizes = [kept, *hidden, 1]
    weights = [rng.normal(0, 0.8, (sizes[k + 1], sizes[k])) for k in range(len(sizes) - 1)]
    biases = [rng.normal(0, 0.5, (s, 1)) for s in sizes[1:]]
    xmin = rng.uniform(-5, 5, kept)
    xmax = xmin + rng.uniform(0.5, 20, kept)
    return {
        "IW": weights[0],
        "LW": weights[1:],
        "b": biases,
        "transferFcn": transfer,
        "inputProcessFcns": ["removeconstantrows", "mapminmax"],
        "inputProcessSettings": [
            removeconstantrows_settings(n_inputs, list(remove)),
            mapminmax_settings(xmin, xmax, ymin, ymax),
        ],
        "outputProcessFcns": ["removeconstantrows", "mapminmax"],
        "outputProcessSettings": [
            removeconstantrows_settings(1, []),
            mapminmax_settings([3.0], [250.0], ymin, ymax),
        ],
        "n_inputs": n_inputs,
        "xmin": xmin,
        "xmax": xmax,
    }


def matlab_sim(net, x):
    """sim(net, x') computed from MATLAB's formulas; x has one sample per row."""
    rc, mm = net["inputProcessSettings"]
    p = x.T[rc["keep"].astype(int).ravel() - 1]
    p = (p - mm["xoffset"]) * mm["gain"] + mm["ymin"]
    a = p
    for w, b, f in zip([net["IW"], *net["LW"]], net["b"], net["transferFcn"], strict=True):
        a = TRANSFER[f](w @ a + b)
    out = net["outputProcessSettings"][1]
    return ((a - out["ymin"]) / out["gain"] + out["xoffset"]).ravel()


def matlab_gradient(net, x):
    """dy/dx by the chain rule through MATLAB's formulas, one row per sample."""
    rc, mm = net["inputProcessSettings"]
    keep = rc["keep"].astype(int).ravel() - 1
    p = (x.T[keep] - mm["xoffset"]) * mm["gain"] + mm["ymin"]
    grads = []
    for q in range(x.shape[0]):
        a, jac = p[:, [q]], np.diag(mm["gain"].ravel())
        for w, b, f in zip([net["IW"], *net["LW"]], net["b"], net["transferFcn"], strict=True):
            n = w @ a + b
            jac = DERIVATIVE[f](n) * (w @ jac)
            a = TRANSFER[f](n)
        full = np.zeros(net["n_inputs"])
        full[keep] = jac.ravel() / net["outputProcessSettings"][1]["gain"].item()
        grads.append(full)
    return np.array(grads)


def inputs_for(net, n=64, seed=1):
    rng = np.random.default_rng(seed)
    x = rng.uniform(-10, 30, (n, net["n_inputs"]))
    return x


# ----------------------------------------------------------------- writing exports as MATLAB does


def cell(items, column=False):
    """A MATLAB cell array (savemat writes object arrays as cells)."""
    out = np.empty((len(items), 1) if column else (1, len(items)), dtype=object)
    for i, item in enumerate(items):
        out[(i, 0) if column else (0, i)] = item
    return out


def export_fields(net):
    """The fields of the README's export, as MATLAB holds them."""
    return {
        "IW": net["IW"],
        "LW": cell(net["LW"]),
        "b": cell(net["b"], column=True),
        "transferFcn": cell(net["transferFcn"]),
        "inputProcessFcns": cell(net["inputProcessFcns"]),
        "inputProcessSettings": cell(net["inputProcessSettings"]),
        "outputProcessFcns": cell(net["outputProcessFcns"]),
        "outputProcessSettings": cell(net["outputProcessSettings"]),
    }


def write_mat(net, path, **changes):
    fields = {**export_fields(net), **changes}
    savemat(path, {k: v for k, v in fields.items() if v is not None})
    return path


def jsonencoded(value):
    """What MATLAB's jsonencode writes: vectors flat, scalars bare, cells as arrays."""
    if isinstance(value, np.ndarray) and value.dtype == object:
        return [jsonencoded(v) for v in value.ravel()]
    if isinstance(value, dict):
        return {k: jsonencoded(v) for k, v in value.items()}
    if isinstance(value, np.ndarray):
        if value.size == 1:
            return float(value.ravel()[0])
        if min(value.shape) == 1 or value.ndim == 1:
            return value.ravel().tolist()
        return value.tolist()
    return value


def write_json(net, path, **changes):
    fields = {**export_fields(net), **changes}
    path.write_text(json.dumps({k: jsonencoded(v) for k, v in fields.items() if v is not None}))
    return path


WRITERS = {"mat": write_mat, "json": write_json}


def keras_values(model, x):
    return np.asarray(model(x, training=False)).ravel()


# ----------------------------------------------------------------- equivalence


@pytest.mark.parametrize("fmt", ["mat", "json"])
@pytest.mark.parametrize(
    ("hidden", "transfer"),
    [
        ((8,), ["tansig", "purelin"]),
        ((8,), ["logsig", "purelin"]),
        ((8,), ["poslin", "purelin"]),
        ((8,), ["purelin", "purelin"]),
        ((6, 4), ["logsig", "tansig", "purelin"]),
        ((1,), ["tansig", "tansig"]),
    ],
)
def test_imported_network_computes_what_matlab_computes(tf, tmp_path, fmt, hidden, transfer):
    net = random_net(3, hidden=hidden, transfer=transfer)
    path = WRITERS[fmt](net, tmp_path / f"net.{fmt}")
    model = load_matlab_network(path, n_inputs=5, dtype="float64")
    x = inputs_for(net)
    expected = matlab_sim(net, x)
    assert np.std(expected) > 1.0  # the network is not flat over these inputs
    np.testing.assert_allclose(keras_values(model, x), expected, rtol=1e-12, atol=1e-10)


def test_gradients_match_the_chain_rule_and_finite_differences(tf, tmp_path):
    from sensiflow.evaluate import make_evaluator

    net = random_net(4)
    model = load_matlab_network(write_mat(net, tmp_path / "n.mat"), n_inputs=5, dtype="float64")
    evaluator = make_evaluator(
        lambda x: model(x, training=False), 5, batch_size=32, dtype="float64", jit_compile=False
    )
    x = inputs_for(net, n=40, seed=5)
    _, g = evaluator.value_and_gradient(x)
    by_hand = matlab_gradient(net, x)
    np.testing.assert_allclose(g, by_hand, rtol=1e-10, atol=1e-12)
    step = 1e-5 * (net["xmax"] - net["xmin"])
    central = np.empty_like(g)
    for j in range(5):
        e = np.zeros(5)
        e[j] = step[j]
        central[:, j] = (matlab_sim(net, x + e) - matlab_sim(net, x - e)) / (2 * step[j])
    np.testing.assert_allclose(g, central, rtol=1e-6, atol=1e-8)


def test_an_input_removed_as_constant_is_ignored(tf, tmp_path):
    net = random_net(5, n_inputs=4, remove=(3,))
    assert net["IW"].shape == (8, 3)
    model = load_matlab_network(write_json(net, tmp_path / "n.json"), n_inputs=4, dtype="float64")
    x = inputs_for(net)
    moved = x.copy()
    moved[:, 2] += 100.0
    np.testing.assert_allclose(keras_values(model, x), matlab_sim(net, x), rtol=1e-12)
    np.testing.assert_array_equal(keras_values(model, moved), keras_values(model, x))
    assert np.all(matlab_gradient(net, x)[:, 2] == 0)


def test_reversed_output_range_keeps_signs(tf, tmp_path):
    # mapminmax(x, 1, -1) maps to a reversed range: negative gains on inputs and output
    net = random_net(6, ymin=1.0, ymax=-1.0)
    assert (net["inputProcessSettings"][1]["gain"] < 0).all()
    model = load_matlab_network(write_mat(net, tmp_path / "n.mat"), n_inputs=5, dtype="float64")
    x = inputs_for(net)
    np.testing.assert_allclose(keras_values(model, x), matlab_sim(net, x), rtol=1e-12, atol=1e-10)


def test_float32_model_and_its_saved_file(tf, tmp_path):
    from sensiflow.model import load_keras

    net = random_net(7)
    model = load_matlab_network(write_mat(net, tmp_path / "n.mat"), n_inputs=5)
    assert model.inputs[0].dtype == "float32"
    model.save(tmp_path / "m.keras")
    loaded = load_keras(tmp_path / "m.keras", allow_unsafe=False, n_inputs=5)
    x = inputs_for(net).astype("float32")
    expected = matlab_sim(net, x.astype(float))
    np.testing.assert_allclose(keras_values(loaded, x), expected, rtol=1e-4, atol=1e-3)
    np.testing.assert_array_equal(keras_values(loaded, x), keras_values(model, x))


def test_fields_inside_one_struct_and_without_processing(tmp_path):
    net = random_net(8)
    fields = export_fields(net)
    savemat(tmp_path / "s.mat", {"s": fields})  # save('s.mat', 's') without -struct
    wrapped = read_matlab_network(tmp_path / "s.mat")
    plain = read_matlab_network(write_mat(net, tmp_path / "p.mat"))
    np.testing.assert_array_equal(wrapped.input_gain, plain.input_gain)
    bare = read_matlab_network(
        write_json(
            net,
            tmp_path / "bare.json",
            inputProcessFcns=None,
            inputProcessSettings=None,
            outputProcessFcns=None,
            outputProcessSettings=None,
        )
    )
    assert bare.output_scale == 1.0 and bare.output_offset == 0.0
    assert (bare.input_gain == 1).all() and (bare.input_offset == 0).all()
    none = {k: cell([]) for k in ("inputProcessFcns", "inputProcessSettings")}
    empty = read_matlab_network(write_mat(net, tmp_path / "empty.mat", **none))  # processFcns = {}
    np.testing.assert_array_equal(empty.input_gain, bare.input_gain)
    assert empty.output_scale == plain.output_scale
    # the composed input map is MATLAB's mapminmax: gain * (x - xoffset) + ymin
    mm = net["inputProcessSettings"][1]
    np.testing.assert_allclose(plain.input_gain, mm["gain"].ravel())
    np.testing.assert_allclose(plain.input_offset, -mm["gain"].ravel() * mm["xoffset"].ravel() - 1)


# ----------------------------------------------------------------- bad exports


@pytest.mark.parametrize(
    ("fmt", "changes", "words"),
    [
        ("mat", {"IW": None}, "missing field(s) IW"),
        ("json", {"transferFcn": None, "b": None}, "missing field(s) b, transferFcn"),
        ("mat", {"IW": np.ones((5, 8))}, "IW: has shape 5x8; expected 8xinputs"),
        ("json", {"LW": cell([np.ones((1, 7))])}, "LW{1}: has 7 values; expected a 1x8 matrix"),
        ("mat", {"LW": cell([np.ones((2, 8))])}, "LW{1}: has shape 2x8; expected 1x8"),
        (
            "mat",
            {"b": cell([np.ones((8, 1)), np.ones((2, 1))], column=True)},
            "b{2}: the output layer has 2 units",
        ),
        ("json", {"b": cell([np.ones((8, 1))])}, "b: has 1 entries but transferFcn names 2"),
        (
            "mat",
            {"transferFcn": cell(["radbas", "purelin"])},
            "transferFcn{1}: unknown transfer function 'radbas'",
        ),
        (
            "json",
            {"inputProcessFcns": cell(["removeconstantrows", "mapstd"])},
            "inputProcessFcns{2}: unsupported processing function 'mapstd'",
        ),
        (
            "mat",
            {"inputProcessFcns": cell(["mapminmax"])},
            "inputProcessSettings: has 2 entries for 1 functions",
        ),
        ("json", {"IW": np.full((8, 5), np.nan)}, "IW: holds NaN or infinite values"),
    ],
)
def test_bad_exports_are_refused_in_one_line(tmp_path, fmt, changes, words):
    net = random_net(9)
    path = WRITERS[fmt](net, tmp_path / f"net.{fmt}", **changes)
    with pytest.raises(SensiflowError) as err:
        read_matlab_network(path)
    message = str(err.value)
    assert message.startswith(str(path)) and "\n" not in message
    assert words in message


def test_mapminmax_settings_without_gain(tmp_path):
    net = random_net(10)
    settings = dict(net["inputProcessSettings"][1])
    del settings["gain"]
    path = write_json(
        net,
        tmp_path / "n.json",
        inputProcessSettings=cell([net["inputProcessSettings"][0], settings]),
    )
    with pytest.raises(SensiflowError, match=r"inputProcessSettings\{2\}: lacks 'gain'"):
        read_matlab_network(path)


@pytest.mark.parametrize(
    ("name", "content", "words"),
    [
        ("net.json", b'{"IW": [[1, 2]', "is not valid JSON (line 1"),
        ("net.mat", b"this is not a mat file" * 10, "is not a readable MATLAB .mat file"),
        ("net.mat", b"MATLAB 7.3 MAT-file, Platform: GLNXA64" + b" " * 90, "MATLAB v7.3 (HDF5)"),
        ("net.txt", b"{}", "expected a MATLAB export ending in .mat or .json"),
        ("net.json", b"[1, 2, 3]", "must hold one object (struct) of named fields"),
    ],
)
def test_unreadable_exports(tmp_path, name, content, words):
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(SensiflowError) as err:
        read_matlab_network(path)
    assert str(err.value).startswith(str(path)) and words in str(err.value)
    assert "\n" not in str(err.value)


def test_input_count_must_match_the_data(tmp_path):
    path = write_mat(random_net(11), tmp_path / "n.mat")
    with pytest.raises(SensiflowError, match=r"takes 5 inputs but the data have 4 \(data.inputs\)"):
        load_matlab_network(path, n_inputs=4)
    with pytest.raises(SensiflowError, match="model file not found"):
        load_matlab_network(tmp_path / "missing.mat", n_inputs=5)
