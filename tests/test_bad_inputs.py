"""The bad-input matrix: every bad input the workflow can meet, through the real command-line
entry point, must end its step with exactly one error line naming the file or config field and
what is wrong, exit status 2, and no output file of that step left behind (complete or partial).

Most cases run ``sensiflow.cli.main`` in-process and never import TensorFlow; the model-file
and model-output cases share one TensorFlow import. A few run the installed ``sensiflow``
command and ``snakemake`` in subprocesses to prove the exit status and the line on stderr.
"""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from tests.pipeline import FILES, SMALL, argv, leftovers, outputs, run, run_all

BIN = Path(sys.executable).parent


def good_frame(rows=100, seed=0):
    """Three positive inputs and y = log x1 + x2 + x3."""
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(
        {
            "x1": rng.uniform(1, 2, rows),
            "x2": rng.uniform(0, 1, rows),
            "x3": rng.uniform(0, 1, rows),
        }
    )
    frame["y"] = np.log(frame["x1"]) + frame["x2"] + frame["x3"]
    return frame


def settings_for(csv, **sections):
    """Settings of a run on ``csv`` with small designs; ``sections`` replace whole sections."""
    base = {"data": {"path": str(csv), "target": "y"}, **SMALL}
    base.update(sections)
    return base


def refused(capsys, step, workdir, settings, where, words):
    """Run ``step``; check the single error line, the exit status and that nothing was left."""
    status = run(step, workdir, settings)
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if line.startswith(f"sensiflow {step}: error: ")]
    assert status == 2, err[-2000:]
    assert len(lines) == 1, err[-2000:]
    assert lines[0].startswith(f"sensiflow {step}: error: {where}: "), lines[0]
    assert words in lines[0], lines[0]
    left = [p for p in outputs(step, workdir) if p.exists()]
    assert left == [], f"{step} left {left}"
    assert leftovers(workdir) == []
    return lines[0]


@pytest.fixture(scope="module")
def prepared(tmp_path_factory):
    """A good CSV and the data and space steps run on it (no TensorFlow)."""
    root = tmp_path_factory.mktemp("prepared")
    good_frame().to_csv(root / "good.csv", index=False)
    run_all(["data", "space"], root / "results", settings_for(root / "good.csv"))
    return root


def copy_of(prepared, tmp_path, *dirs):
    """A fresh results directory holding copies of the given step folders."""
    work = tmp_path / "results"
    for d in dirs:
        shutil.copytree(prepared / "results" / d, work / d)
    return work


# ----------------------------------------------------------------------------- config

CONFIG_CASES = [
    pytest.param(
        {"sobol": {"base_samples": 1000}},
        "sobol.base_samples",
        "1000 is not a power of two (nearest: 1024)",
        id="N-not-a-power-of-two",
    ),
    pytest.param(
        {"sobol": {"base_samples": 2}},
        "sobol.base_samples",
        "2 is less than the minimum of 16",
        id="N-absurdly-small",
    ),
    pytest.param(
        {"morris": {"trajectories": -5}},
        "morris.trajectories",
        "-5 is less than the minimum of 2",
        id="negative-trajectories",
    ),
    pytest.param(
        {"model": {"epochs": 0}}, "model.epochs", "less than the minimum of 1", id="zero-epochs"
    ),
    pytest.param(
        {"evaluation": {"batch_size": -64}},
        "evaluation.batch_size",
        "-64 is less than the minimum of 1",
        id="negative-batch",
    ),
    pytest.param(
        {"data": {"seed": -1}}, "data.seed", "-1 is less than the minimum of 0", id="negative-seed"
    ),
    pytest.param(
        {"sobol": {"base_smaples": 1024}},
        "sobol",
        "unknown key 'base_smaples' (known keys: base_samples,",
        id="unknown-key",
    ),
    pytest.param({"colour": "red"}, "(top level)", "unknown key 'colour'", id="unknown-section"),
    pytest.param(
        {"sobol": {"base_samples": "many"}},
        "sobol.base_samples",
        "'many' is not of type integer",
        id="wrong-type",
    ),
    pytest.param(
        {"data": {"test_fraction": 1.5}},
        "data.test_fraction",
        "1.5 is greater than or equal to the maximum of 1",
        id="test-fraction-above-1",
    ),
    pytest.param(
        {"sobol": {"conf_level": float("nan")}},
        "sobol.conf_level",
        "nan is not a finite number",
        id="nan-setting",
    ),
    pytest.param({"morris": {"levels": 5}}, "morris.levels", "5 is odd", id="odd-morris-levels"),
    pytest.param(
        {"space": {"quantiles": [0.9, 0.1]}},
        "space.quantiles",
        "[0.9, 0.1] must satisfy 0 <= lower < upper <= 1",
        id="quantiles-reversed",
    ),
    pytest.param(
        {"space": {"inputs": {"x1": {"dist": "uniform", "lower": 2, "upper": 1}}}},
        "space.inputs.x1",
        "lower 2 must be below upper 1",
        id="lower-above-upper",
    ),
    pytest.param(
        {"space": {"inputs": {"x1": {"dist": "gamma", "lower": 0, "upper": 1}}}},
        "space.inputs.x1.dist",
        "'gamma' is not one of 'uniform', 'normal'",
        id="unknown-distribution",
    ),
    pytest.param(
        {"space": {"inputs": {"x1": {"dist": "normal", "mean": 1}}}},
        "space.inputs.x1",
        "normal needs mean, sd; missing sd",
        id="missing-parameter",
    ),
    pytest.param(
        {"space": {"inputs": {"x1": {"dist": "normal", "mean": 1, "sd": -1}}}},
        "space.inputs.x1.sd",
        "must be > 0, got -1",
        id="negative-sd",
    ),
    pytest.param(
        {"space": {"inputs": {"x1": {"dist": "loguniform", "lower": 0, "upper": 1}}}},
        "space.inputs.x1.lower",
        "loguniform needs bounds > 0, got 0",
        id="loguniform-from-zero",
    ),
    pytest.param(
        {"space": {"inputs": {"x1": {"dist": "triangular", "lower": 0, "mode": 2, "upper": 1}}}},
        "space.inputs.x1.mode",
        "2 must lie within [lower, upper]",
        id="triangular-mode-outside",
    ),
    pytest.param(
        {"model": {"source": "keras"}},
        "model.path",
        "required when model.source is keras",
        id="keras-without-path",
    ),
    pytest.param(
        {"model": {"path": "net.onnx"}},
        "model.path",
        "cannot tell the kind of model from 'net.onnx'",
        id="model-of-unknown-kind",
    ),
    pytest.param(
        {"model": {"source": "train", "path": "net.keras"}},
        "model.path",
        "is set, but model.source 'train' trains a new network",
        id="path-with-training",
    ),
    pytest.param(
        {"model": {"output_scaling": {"center": 0, "scale": 2}}},
        "model.output_scaling",
        "applies to a given model; a trained network holds its own",
        id="scaling-for-a-trained-network",
    ),
    pytest.param(
        {"model": {"source": "keras", "path": "m.keras", "seeds": [1, 2]}},
        "model.seeds",
        "several seeds need model.source 'train'",
        id="seeds-for-a-given-model",
    ),
    pytest.param(
        {"local": {"operating_points": [{"name": "a", "values": {}}, {"name": "a", "values": {}}]}},
        "local.operating_points",
        "duplicate point name(s): a",
        id="duplicate-operating-points",
    ),
    pytest.param(
        {"sobol": {"base_samples": 256.0}},
        "sobol.base_samples",
        "256.0 is not of type integer (write a whole number without a decimal point)",
        id="whole-number-float",
    ),
    pytest.param(
        {"model": {"seeds": [2**32]}},
        "model.seeds[0]",
        "greater than the maximum of 4294967295",
        id="seed-beyond-32-bits",
    ),
    pytest.param(
        {"sobol": {"base_samples": 2**30}},
        "sobol.base_samples",
        "greater than the maximum of 16777216",
        id="N-beyond-memory",
    ),
    pytest.param(
        {"evaluation": {"batch_size": 2**40}},
        "evaluation.batch_size",
        "greater than the maximum of 4194304",
        id="batch-beyond-memory",
    ),
    pytest.param(
        {"space": {"inputs": {"x1": {"dist": "uniform", "lower": -1e308, "upper": 1e308}}}},
        "space.inputs.x1",
        "upper - lower overflows to infinity",
        id="range-overflows",
    ),
    pytest.param(
        {"data": {"test_fraction": "1e-9"}},
        "data.test_fraction",
        "(YAML reads a number like 1e-9 as text: write 1.0e-9)",
        id="number-read-as-text",
    ),
]


@pytest.mark.parametrize(("sections", "field", "words"), CONFIG_CASES)
def test_bad_config(capsys, tmp_path, sections, field, words):
    settings = settings_for(tmp_path / "good.csv")
    for key, value in sections.items():
        settings[key] = {**settings.get(key, {}), **value} if isinstance(value, dict) else value
    good_frame().to_csv(tmp_path / "good.csv", index=False)
    refused(capsys, "data", tmp_path / "results", settings, f"config: {field}", words)


@pytest.mark.parametrize(
    ("data", "field", "words"),
    [
        ({"sep": "::"}, "data.sep", "'::' must be one character"),
        ({"inputs": ["x1", "y"]}, "data.inputs", "lists the target 'y'"),
        ({"path": None, "target": None, "source": "function"}, "data.source", "needs a `function"),
    ],
)
def test_bad_data_settings(capsys, tmp_path, data, field, words):
    settings = settings_for(tmp_path / "good.csv")
    settings["data"].update(data)
    refused(capsys, "data", tmp_path / "results", settings, f"config: {field}", words)


def test_settings_that_are_not_json(capsys, tmp_path):
    from sensiflow.cli import main

    args = argv("data", tmp_path, {})
    args[args.index("--settings") + 1] = "{sobol: 1"
    assert main(args) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].startswith("sensiflow data: error: --settings: not valid JSON")
    assert not (tmp_path / FILES["train"]).exists()


def test_config_file_errors_name_the_file_and_line(capsys, tmp_path):
    from sensiflow.cli import main

    path = tmp_path / "my.yaml"
    path.write_text("sobol:\n  base_samples: 1024\n   resamples: 3\n")
    assert main(["check-config", str(path)]) == 2
    line = capsys.readouterr().err.strip()
    assert line.startswith(f"sensiflow check-config: error: {path}: not valid YAML at line 3")
    assert main(["check-config", str(tmp_path / "none.yaml")]) == 2
    assert "none.yaml: config file not found" in capsys.readouterr().err


# ----------------------------------------------------------------------------- data

DATA_CASES = [
    pytest.param("", {}, "the file is empty (no header row)", id="empty-csv"),
    pytest.param("\n\n  \n", {}, "the file is empty (no header row)", id="blank-lines-only"),
    pytest.param("x1,x2,y\n", {}, "has a header but no data rows", id="header-only"),
    pytest.param(
        "x1,x2,z\n1,2,3\n", {}, "target column 'y' not found (data.target", id="missing-target"
    ),
    pytest.param(
        "x1,x2,y\n1,2,3\n",
        {"inputs": ["x1", "x9"]},
        "input column(s) 'x9' not found (data.inputs",
        id="missing-input-column",
    ),
    pytest.param(
        "x1,x2,y\n1,a,3\n2,b,4\n",
        {},
        "non-numeric column(s): 'x2' (line 2: 'a'); set data.drop_non_numeric",
        id="text-column",
    ),
    pytest.param(
        "x1,x2,y\n1,2,3\n2,,4\n3,inf,5\n",
        {},
        "2 row(s) have empty, NaN or infinite cells (lines 3, 4; columns: x2 (2))",
        id="missing-and-infinite-cells",
    ),
    pytest.param("x1,x2,y\n1,2,3\n2,3,\n", {}, "(lines 3; columns: y (1))", id="target-with-a-gap"),
    pytest.param(
        "x1,x2,y\n1,7,3\n2,7,4\n3,7,5\n",
        {},
        "input column 'x2' is constant (every value 7)",
        id="constant-column",
    ),
    pytest.param(
        "x1,x1,y\n1,2,3\n", {}, "duplicate column name(s): x1", id="duplicate-column-names"
    ),
    pytest.param(
        "x1;x2;y\n1;2;3\n",
        {},
        "parsed as a single column 'x1;x2;y' with separator ','; is the separator ';'?",
        id="wrong-separator",
    ),
    pytest.param(
        "x1,x2,y\n1,2,3\n2,3,4,5\n",
        {},
        "line 3 has 4 fields but the header has 3",
        id="ragged-row",
    ),
    pytest.param(
        ",x1,y\n0,1,2\n1,2,3\n", {}, "column 1 has no name in the header", id="unnamed-column"
    ),
    pytest.param(
        "x1,x2,y\n" + "".join(f"{i},{i * i % 7},{i % 5}\n" for i in range(11)),
        {},
        "11 rows are too few to split (data.test_fraction 0.2",
        id="too-few-rows",
    ),
]


@pytest.mark.parametrize(("content", "data", "words"), DATA_CASES)
def test_bad_table(capsys, tmp_path, content, data, words):
    path = tmp_path / "bad.csv"
    path.write_text(content)
    settings = settings_for(path)
    settings["data"].update(data)
    refused(capsys, "data", tmp_path / "results", settings, str(path), words)


@pytest.mark.parametrize(
    ("name", "words"),
    [
        ("missing.csv", "file not found (data.path)"),
        ("folder.csv", "is a directory, not a CSV file (data.path)"),
        ("binary.csv", "is not a UTF-8 text file"),
    ],
)
def test_unreadable_table(capsys, tmp_path, name, words):
    (tmp_path / "folder.csv").mkdir()
    (tmp_path / "binary.csv").write_bytes(bytes(range(128, 256)) * 4)
    path = tmp_path / name
    refused(capsys, "data", tmp_path / "results", settings_for(path), str(path), words)


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads files whatever their permissions")
def test_table_without_read_permission(capsys, tmp_path):
    path = tmp_path / "locked.csv"
    good_frame().to_csv(path, index=False)
    path.chmod(0)
    refused(
        capsys,
        "data",
        tmp_path / "results",
        settings_for(path),
        str(path),
        "cannot be read: permission denied",
    )


# ----------------------------------------------------------------------------- input space


def test_distribution_for_an_input_the_data_lack(capsys, prepared, tmp_path):
    work = copy_of(prepared, tmp_path, "data")
    settings = settings_for(
        prepared / "good.csv", space={"inputs": {"x9": {"dist": "normal", "mean": 0, "sd": 1}}}
    )
    refused(capsys, "space", work, settings, "config: space.inputs.x9", "not an input")


def test_operating_point_for_an_input_the_data_lack(capsys, prepared, tmp_path):
    work = copy_of(prepared, tmp_path, "data")
    settings = settings_for(
        prepared / "good.csv",
        local={"operating_points": [{"name": "hot", "values": {"x1": 1.5, "heat": 3}}]},
    )
    where = "config: local.operating_points[0].values.heat"
    refused(capsys, "space", work, settings, where, "not an input (inputs: x1, x2, x3)")


def test_function_with_another_input_count(capsys, prepared, tmp_path):
    work = copy_of(prepared, tmp_path, "data")
    settings = settings_for(prepared / "good.csv", function={"name": "product"})
    refused(
        capsys, "space", work, settings, "config", "function: product takes 2 inputs but the data"
    )


def test_missing_data_summary(capsys, tmp_path):
    settings = settings_for(tmp_path / "good.csv")
    refused(capsys, "space", tmp_path, settings, str(tmp_path / FILES["summary"]), "not found")


# ----------------------------------------------------------------------------- designs


def test_unscrambled_design_of_a_normal_input(capsys, prepared, tmp_path):
    work = copy_of(prepared, tmp_path, "data")
    settings = settings_for(
        prepared / "good.csv", space={"inputs": {"x1": {"dist": "normal", "mean": 5, "sd": 0.4}}}
    )
    run_all(["space"], work, settings)
    settings["sobol"] = {**settings["sobol"], "scramble": False}
    refused(
        capsys,
        "designs",
        work,
        settings,
        "sobol.scramble",
        "input 'x1' maps to an infinite or undefined value at",
    )


@pytest.mark.parametrize(
    ("edit", "where", "words"),
    [
        (lambda p: "{not json", "", "input space is not valid JSON"),
        (
            lambda p: {
                **p,
                "distributions": [
                    {**p["distributions"][0], "dist": "cauchy"},
                    *p["distributions"][1:],
                ],
            },
            ": distributions.x1.dist",
            "unknown distribution 'cauchy'",
        ),
        (
            lambda p: {
                **p,
                "distributions": [
                    {**p["distributions"][0], "lower": 3.0, "upper": 1.0},
                    *p["distributions"][1:],
                ],
            },
            ": distributions.x1",
            "lower 3.0 must be below upper 1.0",
        ),
        (lambda p: {**p, "num_vars": 7}, ": num_vars", "does not match the number of names"),
    ],
    ids=["not-json", "unknown-distribution", "bounds-reversed", "wrong-count"],
)
def test_damaged_input_space_file(capsys, prepared, tmp_path, edit, where, words):
    work = copy_of(prepared, tmp_path, "data", "space")
    path = work / FILES["problem"]
    edited = edit(json.loads(path.read_text()))
    path.write_text(edited if isinstance(edited, str) else json.dumps(edited))
    settings = settings_for(prepared / "good.csv")
    refused(capsys, "designs", work, settings, f"{path}{where}".removesuffix(": "), words)


# ----------------------------------------------------------------------------- model files


@pytest.fixture(scope="module")
def model_files(tf, tmp_path_factory):
    """Keras models for three inputs, a MATLAB export, and bad files."""
    from tests.pipeline import keras_files
    from tests.test_matlab import cell, random_net, write_json, write_mat

    root = tmp_path_factory.mktemp("models")
    paths = keras_files(root)
    net = random_net(1, n_inputs=3)
    paths["matlab"] = write_mat(net, root / "net.mat")
    paths["matlab_4"] = write_mat(random_net(1, n_inputs=4), root / "net4.mat")
    paths["matlab_no_iw"] = write_mat(net, root / "no_iw.mat", IW=None)
    paths["matlab_transposed"] = write_json(net, root / "transposed.json", IW=net["IW"].T)
    paths["matlab_radbas"] = write_mat(
        net, root / "radbas.mat", transferFcn=cell(["radbas", "purelin"])
    )
    import keras

    paths["unbuilt"] = root / "unbuilt.keras"
    keras.Sequential([keras.layers.Dense(1)]).save(paths["unbuilt"])
    paths["text.keras"] = root / "text.keras"
    paths["text.keras"].write_text("this is not a model")
    return paths


MODEL_CASES = [
    pytest.param(
        "unbuilt", {}, "has no defined inputs (a Sequential model saved before", id="keras-unbuilt"
    ),
    pytest.param("missing.keras", {}, "model file not found (model.path)", id="keras-missing"),
    pytest.param(
        "text.keras", {}, "is not a Keras file (a .keras model is a zip", id="keras-not-a-model"
    ),
    pytest.param("lambda", {}, "holds a Lambda layer (code stored in the file)", id="lambda"),
    pytest.param(
        "linear",
        {"data": {"inputs": ["x1", "x2"]}},
        "takes 3 inputs but the data have 2 (data.inputs)",
        id="keras-wrong-input-count",
    ),
    pytest.param("two_outputs", {}, "has 1 inputs and 2 outputs", id="keras-two-outputs"),
    pytest.param("two_units", {}, "output shape (None, 2) is not one value", id="keras-2-units"),
    pytest.param("int_input", {}, "takes int32 inputs", id="keras-integer-input"),
    pytest.param("matlab_no_iw", {}, "missing field(s) IW", id="matlab-missing-field"),
    pytest.param(
        "matlab_transposed", {}, "IW: has shape 3x8; expected 8xinputs", id="matlab-shape"
    ),
    pytest.param(
        "matlab_radbas",
        {},
        "transferFcn{1}: unknown transfer function 'radbas'",
        id="matlab-unknown-transfer",
    ),
    pytest.param(
        "matlab_4",
        {},
        "the network takes 4 inputs but the data have 3",
        id="matlab-wrong-input-count",
    ),
]


@pytest.mark.parametrize(("name", "sections", "words"), MODEL_CASES)
def test_bad_model_file(capsys, prepared, model_files, tmp_path, name, sections, words):
    path = model_files.get(name, tmp_path / name)
    data = {**settings_for(prepared / "good.csv")["data"], **sections.get("data", {})}
    work = tmp_path / "results"
    run_all(["data"], work, settings_for(prepared / "good.csv", data=data))
    settings = settings_for(prepared / "good.csv", data=data, model={"path": str(path)})
    refused(capsys, "model", work, settings, str(path), words)


def test_external_scaling_of_the_wrong_length(capsys, prepared, model_files, tmp_path):
    work = copy_of(prepared, tmp_path, "data")
    model = {
        "path": str(model_files["linear"]),
        "input_scaling": {"center": [0, 0], "scale": [1, 1]},
    }
    settings = settings_for(prepared / "good.csv", model=model)
    refused(capsys, "model", work, settings, "config", "model.input_scaling: 2 values for 3 inputs")


# ----------------------------------------------------------------------------- model outputs


def test_nan_outputs_in_part_of_the_space_stop_the_run(capsys, prepared, model_files, tmp_path):
    """y = log x1 + x2 + x3 is fine on the data (x1 in [1, 2]) and NaN wherever the input
    space puts x1 below 0: the evaluation stops, counting those rows and showing one, and no
    indices are computed."""
    from sensiflow.designs import sobol_design

    work = copy_of(prepared, tmp_path, "data")
    settings = settings_for(
        prepared / "good.csv",
        model={"path": str(model_files["log"])},
        space={"inputs": {"x1": {"dist": "normal", "mean": 1.0, "sd": 1.0}}},
    )
    run_all(["space", "designs", "model"], work, settings)
    spec = json.loads((work / FILES["sobol"]).read_text())
    problem = json.loads((work / FILES["problem"]).read_text())
    x = sobol_design(spec, problem)
    bad = np.flatnonzero(x[:, 0] <= 0)
    assert 0 < len(bad) < len(x)
    line = refused(
        capsys,
        "evaluate",
        work,
        settings,
        "model output on the Sobol' design",
        f"the model returned NaN or infinite output at {len(bad)} of {len(x)} rows "
        f"(first: row {bad[0]}, x1={x[bad[0], 0]:.6g}, x2={x[bad[0], 1]:.6g}",
    )
    assert line.endswith("no indices are computed from such values")
    assert run("indices", work, settings) == 2  # nothing to compute indices from
    assert capsys.readouterr().err.strip().endswith("sobol_y.npy: file not found")


def test_nan_outputs_at_the_data_rows_stop_the_model_step(capsys, model_files, tmp_path):
    """The network file is written last: a model refused at its own data leaves no file."""
    frame = good_frame(seed=3)
    frame["x1"] -= 1.9  # mostly negative: log x1 is NaN there
    frame.to_csv(tmp_path / "shifted.csv", index=False)
    settings = settings_for(tmp_path / "shifted.csv", model={"path": str(model_files["log"])})
    work = tmp_path / "results"
    run_all(["data"], work, settings)
    test = pd.read_csv(work / FILES["test"])
    bad = np.flatnonzero(test["x1"] < 0)
    refused(
        capsys,
        "model",
        work,
        settings,
        "model output at the test rows",
        f"at {len(bad)} of {len(test)} rows (first: row {bad[0]}, x1={test['x1'][bad[0]]:.6g}",
    )


def test_outputs_of_another_design(capsys, prepared, tmp_path):
    """Outputs that do not belong to the design (here: truncated) are refused, never analysed."""
    work = copy_of(prepared, tmp_path, "data", "space")
    settings = settings_for(prepared / "good.csv")
    run_all(["designs"], work, settings)
    spec = json.loads((work / FILES["sobol"]).read_text())
    for name, n in (("sobol-y", spec["rows"] - 3), ("morris-y", 8)):
        (work / FILES[name]).parent.mkdir(parents=True, exist_ok=True)
        np.save(work / FILES[name], np.ones(n))
    np.savez(work / FILES["gradients"], design_count=np.array(1))
    refused(
        capsys,
        "indices",
        work,
        settings,
        str(work / FILES["sobol-y"]),
        f"{spec['rows'] - 3} outputs for a design of {spec['rows']} rows; rerun the evaluation",
    )


# ----------------------------------------------------------------------------- subprocesses


def test_exit_status_and_stderr_of_the_installed_command(tmp_path):
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    proc = subprocess.run(
        [str(BIN / "sensiflow"), *argv("data", tmp_path / "results", settings_for(empty))],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines()[-1] == (
        f"sensiflow data: error: {empty}: the file is empty (no header row)"
    )
    assert not (tmp_path / "results").exists()
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump({"sobol": {"base_samples": 3000}}))
    proc = subprocess.run(
        [str(BIN / "sensiflow"), "check-config", str(bad)], capture_output=True, text=True
    )
    assert proc.returncode == 2
    assert proc.stderr.strip() == (
        f"sensiflow check-config: error: {bad}: sobol.base_samples: 3000 is not a power of "
        "two (nearest: 2048)"
    )


@pytest.mark.workflow
def test_snakemake_stops_on_bad_config_and_bad_data(tmp_path):
    from tests.test_workflow import snakemake

    cases = {
        "unknown-key": ({"morris": {"trajectory": 10}}, "config.yaml: morris: unknown key"),
        "bounds": (
            {"space": {"inputs": {"alcohol": {"dist": "uniform", "lower": 3, "upper": 1}}}},
            "config.yaml: space.inputs.alcohol: lower 3 must be below upper 1",
        ),
    }
    for name, (config, line) in cases.items():
        work = tmp_path / name
        work.mkdir()
        (work / "config.yaml").write_text(yaml.safe_dump(config))
        proc = snakemake(work, "-n")
        assert proc.returncode != 0
        assert line in proc.stdout + proc.stderr
        assert not (work / "results").exists()
    # a bad table stops the data rule: its line reaches the terminal, no output is kept
    work = tmp_path / "table"
    work.mkdir()
    (work / "empty.csv").write_text("")
    config = {"data": {"path": "empty.csv", "target": "y"}}
    (work / "config.yaml").write_text(yaml.safe_dump(config))
    proc = snakemake(work, "results/data/data.json")
    assert proc.returncode != 0
    assert "sensiflow data: error: empty.csv: the file is empty (no header row)" in proc.stderr
    assert not (work / "results" / "data" / "train.csv").exists()
    log = (work / "results" / "logs" / "data.log").read_text()
    assert "empty.csv: the file is empty" in log


def test_input_constant_only_in_the_training_split(capsys, tmp_path):
    from sensiflow.data import holdout_mask

    frame = good_frame(rows=40)
    frame["x2"] = 0.0
    # the one row where x2 varies is held out for testing: training sees a constant column
    test_row = int(np.flatnonzero(holdout_mask(frame, 0.2, 0))[0])
    frame.loc[test_row, "x2"] = 1.0
    frame.to_csv(tmp_path / "rare.csv", index=False)
    refused(
        capsys,
        "data",
        tmp_path / "results",
        settings_for(tmp_path / "rare.csv"),
        str(tmp_path / "rare.csv"),
        "column 'x2' is constant over the 32 training rows",
    )


def test_values_beyond_float32_arithmetic(capsys, tf, prepared, tmp_path):
    frame = good_frame()
    frame["x3"] *= 1e30
    frame.to_csv(tmp_path / "huge.csv", index=False)
    work = tmp_path / "results"
    run_all(["data"], work, settings_for(tmp_path / "huge.csv"))
    refused(
        capsys,
        "model",
        work,
        settings_for(tmp_path / "huge.csv"),
        f"training rows ({work / FILES['train']})",
        "'x3' holds values up to",
    )


def test_output_within_float32_rounding_is_refused(capsys, tf, prepared, tmp_path):
    import keras

    x = keras.Input((3,))
    layer = keras.layers.Dense(1)
    net = keras.Model(x, layer(x))
    layer.set_weights([np.full((3, 1), 0.02), np.array([1e6])])  # 1e6 + 0.02 to 0.08
    net.save(tmp_path / "offset.keras")
    work = copy_of(prepared, tmp_path, "data", "space")
    settings = settings_for(prepared / "good.csv", model={"path": str(tmp_path / "offset.keras")})
    run_all(["designs", "model"], work, settings)
    line = refused(
        capsys,
        "evaluate",
        work,
        settings,
        "model output on the Sobol' design",
        "float32 rounding steps (0.0625)",
    )
    assert "evaluate in float64" in line


def test_an_input_named_like_a_column_of_ours_keeps_point_names(tmp_path):
    frame = good_frame().rename(columns={"x1": "point", "x2": "name"})
    frame.to_csv(tmp_path / "named.csv", index=False)
    points = [{"name": "hot", "values": {"name": 0.9}}, {"name": "cold", "values": {"point": 1.5}}]
    work = tmp_path / "results"
    run_all(
        ["data", "space"],
        work,
        settings_for(tmp_path / "named.csv", local={"operating_points": points}),
    )
    saved = json.loads((work / FILES["points"]).read_text())["points"]
    assert [p["name"] for p in saved] == ["hot", "cold"]
    assert saved[0]["values"]["name"] == 0.9 and saved[1]["values"]["point"] == 1.5
