"""Shared fixtures: the analytic cases of the project's known-answer tests, and one compiled
TensorFlow context for the whole session (TensorFlow takes seconds to import)."""

from __future__ import annotations

import os

# OpenBLAS threads busy-wait between the estimator's small matrix products and take the cores
# TensorFlow uses; one thread is faster here (set before numpy loads)
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np
import pytest

from sensiflow.functions import make_function
from sensiflow.space import derive_problem

LIN11_COEF = [1, -2, 0.5, 4, 1.5, -0.5, 0.25, 3, 0.1, 2.5, -1]
LIN11_BOUNDS = [
    [0, 1],
    [0, 2],
    [-1, 1],
    [0, 0.5],
    [1, 3],
    [0, 1],
    [-2, 2],
    [0, 1],
    [0, 4],
    [0, 1],
    [0.5, 1.5],
]
G11_A = [0, 1, 4.5, 9] + [99] * 7


def problem_of(function):
    """The function's own uniform domain as a problem."""
    return derive_problem(
        None,
        function.input_names,
        method="function",
        quantiles=(0, 1),
        overrides={},
        function=function,
    )


@pytest.fixture(scope="session")
def lin11():
    return make_function({"name": "linear", "coefficients": LIN11_COEF, "bounds": LIN11_BOUNDS})


@pytest.fixture(scope="session")
def ishigami():
    return make_function({"name": "ishigami"})


@pytest.fixture(scope="session")
def gfun11():
    return make_function({"name": "sobol_g", "a": G11_A})


@pytest.fixture(scope="session")
def tf():
    """TensorFlow, configured once (deterministic ops, memory growth)."""
    import tensorflow

    from sensiflow.evaluate import configure_tensorflow

    configure_tensorflow()
    return tensorflow


@pytest.fixture(scope="session")
def linear_network(tf):
    """An 11-15-1 Keras network whose output is exactly linear: y = c . x (float64).

    The hidden layer is linear (identity activation) with weights that route x through and back,
    so the analytic gradient is c everywhere.
    """
    import keras

    from sensiflow.model import build_network

    net = build_network(
        11,
        hidden_units=15,
        activation="linear",
        x_mean=np.zeros(11),
        x_sd=np.ones(11),
        y_mean=0.0,
        y_sd=1.0,
        dtype="float64",
    )
    w1 = np.zeros((11, 15))
    w1[:, :11] = np.eye(11)
    w2 = np.zeros((15, 1))
    w2[:11, 0] = LIN11_COEF
    net.get_layer("hidden").set_weights([w1, np.zeros(15)])
    net.get_layer("output").set_weights([w2, np.zeros(1)])
    assert isinstance(net, keras.Model)
    return net


@pytest.fixture(scope="session")
def tiny_run(tmp_path_factory):
    """The whole workflow, run once with the tiny config of ``tests/test_workflow.py``."""
    import yaml

    from tests.test_workflow import TINY, snakemake

    workdir = tmp_path_factory.mktemp("run")
    (workdir / "config.yaml").write_text(yaml.safe_dump(TINY))
    proc = snakemake(workdir)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return workdir


@pytest.fixture(scope="session")
def tanh_network(tf):
    """An untrained 11-15-1 tanh network with its scaling layers (float32), for speed and
    invariance checks where the weights do not matter."""
    from sensiflow.model import build_network

    return build_network(
        11,
        hidden_units=15,
        activation="tanh",
        x_mean=np.zeros(11),
        x_sd=np.ones(11),
        y_mean=5.0,
        y_sd=0.8,
    )
