"""Units of local gradients (shared case 12): a network trained with its scaling inside reports
dy/dx in original units, and the standardised column is labelled and scaled as such."""

import numpy as np
import pandas as pd
import pytest

from sensiflow.data import Table, summarise
from sensiflow.evaluate import make_evaluator
from sensiflow.local import ORIGINAL, STANDARDISED, local_table, standardising_factors
from sensiflow.model import train_network

from .conftest import LIN11_COEF

STANDARDISED_EXACT = [
    0.1434,
    -0.5734,
    0.1434,
    0.2867,
    0.4301,
    -0.0717,
    0.1434,
    0.4301,
    0.0573,
    0.3584,
    -0.1434,
]


def test_trained_network_reports_gradients_in_original_units(tf, lin11):
    rng = np.random.default_rng(12)
    lo, hi = lin11.bounds[:, 0], lin11.bounds[:, 1]
    x = lo + (hi - lo) * rng.random((20_000, 11))
    frame = pd.DataFrame(x, columns=lin11.input_names)
    frame["y"] = lin11(x)
    settings = {
        "hidden_units": 15,
        "activation": "tanh",
        "epochs": 60,
        "batch_size": 256,
        "learning_rate": 0.01,
        "patience": 10,
        "validation_fraction": 0.2,
    }
    net, _ = train_network(frame, lin11.input_names, "y", settings, seed=3)
    ev = make_evaluator(lambda t: net(t, training=False), 11, batch_size=4096)
    _, g = ev.value_and_gradient(x[:4000])

    table = Table(frame, lin11.input_names, "y", "lin11", [])
    stats = summarise(table, frame, frame.iloc[:0])["statistics"]
    factors = standardising_factors(lin11.input_names, stats, "y")
    moments = {
        "count": np.array(1),
        "sum": np.zeros(11),
        "sum_sq": np.zeros(11),
        "sum_abs": np.zeros(11),
    }
    local = local_table(
        lin11.input_names,
        factors,
        data_gradients=g,
        design_moments=moments,
        point_names=[],
        point_gradients=np.empty((0, 11)),
    )
    rows = local[(local["source"] == "data rows") & (local["statistic"] == "mean")]
    original = rows[rows["units"] == ORIGINAL]["value"].to_numpy()
    standardised = rows[rows["units"] == STANDARDISED]["value"].to_numpy()

    c = np.array(LIN11_COEF)
    assert np.abs(original - c).max() <= 0.03 * np.abs(c).max()
    assert np.abs(standardised - STANDARDISED_EXACT).max() <= 0.03 * 0.5734
    # the two columns differ: a scaled derivative is never passed off as dy/dx
    assert not np.allclose(original, standardised, atol=0.05)
    assert factors == pytest.approx(np.array(STANDARDISED_EXACT) / c, rel=0.02)
