"""Run workflow steps through the real command-line entry point, in-process, with the file
layout the Snakefile uses (under a given directory)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from sensiflow.cli import main

MODEL = "m"
FILES = {
    "train": "data/train.csv",
    "test": "data/test.csv",
    "summary": "data/data.json",
    "problem": "space/problem.json",
    "points": "space/operating_points.json",
    "coverage": "space/coverage.json",
    "sobol": "designs/sobol.json",
    "morris": "designs/morris.npz",
    "design-summary": "designs/design_summary.csv",
    "card": f"{MODEL}/model.json",
    "keras": f"{MODEL}/model.keras",
    "fit": f"{MODEL}/fit.json",
    "history": f"{MODEL}/history.csv",
    "sobol-y": f"{MODEL}/evaluations/sobol_y.npy",
    "morris-y": f"{MODEL}/evaluations/morris_y.npy",
    "gradients": f"{MODEL}/evaluations/gradients.npz",
    "meta": f"{MODEL}/evaluations/evaluation.json",
    "sobol-table": f"{MODEL}/tables/sobol.csv",
    "morris-table": f"{MODEL}/tables/morris.csv",
    "dgsm-table": f"{MODEL}/tables/dgsm.csv",
}
STEPS = {
    "data": ([], ["train", "test", "summary"]),
    "space": (["summary", "train"], ["problem", "points", "coverage"]),
    "designs": (["problem"], ["sobol", "morris", "design-summary"]),
    "model": (["summary", "train", "test"], ["card", "keras", "fit", "history"]),
    "evaluate": (
        ["card", "problem", "sobol", "morris", "train", "test", "points"],
        ["sobol-y", "morris-y", "gradients", "meta"],
    ),
    "indices": (
        ["problem", "sobol", "sobol-y", "morris", "morris-y", "gradients"],
        ["sobol-table", "morris-table", "dgsm-table"],
    ),
}
# small designs: every step of a run takes well under a second once TensorFlow is imported
SMALL = {
    "sobol": {"base_samples": 16, "resamples": 10, "second_order": False},
    "morris": {"trajectories": 4, "resamples": 10},
    "evaluation": {"batch_size": 256},
}


def argv(step: str, workdir: Path, settings: dict[str, Any]) -> list[str]:
    """The command line of ``step`` with every file under ``workdir``."""
    inputs, outputs = STEPS[step]
    if settings.get("model", {}).get("source") == "function":
        outputs = [o for o in outputs if o != "keras"]  # as the workflow: no network to save
    args = [step, "--settings", json.dumps(settings)]
    for option in inputs + outputs:
        args += [f"--{option}", str(workdir / FILES[option])]
    if step == "model":
        args += ["--model-id", MODEL]
    return args


def outputs(step: str, workdir: Path) -> list[Path]:
    """The files ``step`` writes."""
    return [workdir / FILES[option] for option in STEPS[step][1]]


def run(step: str, workdir: Path, settings: dict[str, Any]) -> int:
    """Run one step through :func:`sensiflow.cli.main`; return its exit status."""
    return main(argv(step, workdir, settings))


def run_all(steps: list[str], workdir: Path, settings: dict[str, Any]) -> None:
    """Run steps in order; each must succeed."""
    for step in steps:
        status = run(step, workdir, settings)
        assert status == 0, f"sensiflow {step} exited with {status}"


def leftovers(workdir: Path) -> list[Path]:
    """Temporary files of atomic writes still on disk."""
    return sorted(p for p in workdir.rglob(".*") if ".tmp" in p.name)


def keras_files(directory: Path) -> dict[str, Path]:
    """Small Keras models saved as .keras files, good and bad, for three inputs.

    ``linear``: y = x . [1, -2, 3] + 0.5; ``lambda``: the same through a ``Lambda`` layer;
    ``log``: y = log x1 + x2 + x3 (NaN where x1 < 0); ``two_outputs``, ``two_units``,
    ``int_input``: models sensiflow refuses.
    """
    import keras
    import numpy as np

    directory.mkdir(parents=True, exist_ok=True)

    def linear_layer():
        layer = keras.layers.Dense(1)
        layer.build((None, 3))
        layer.set_weights([np.array([[1.0], [-2.0], [3.0]]), np.array([0.5])])
        return layer

    x = keras.Input((3,), name="x")
    models = {
        "linear": keras.Model(x, linear_layer()(x)),
        "lambda": keras.Model(x, linear_layer()(keras.layers.Lambda(lambda t: t * 1.0)(x))),
        "log": keras.Model(
            x,
            keras.ops.log(x[:, :1]) + keras.ops.sum(x[:, 1:], axis=1, keepdims=True),
        ),
        "two_outputs": keras.Model(x, [linear_layer()(x), linear_layer()(x)]),
        "two_units": keras.Model(x, keras.layers.Dense(2)(x)),
    }
    xi = keras.Input((3,), dtype="int32")
    models["int_input"] = keras.Model(xi, linear_layer()(keras.ops.cast(xi, "float32")))
    paths = {}
    for name, model in models.items():
        paths[name] = directory / f"{name}.keras"
        model.save(paths[name])
    return paths
