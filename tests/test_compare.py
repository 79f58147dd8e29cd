"""Local-versus-global table, rank correlations and flags."""

import numpy as np
import pandas as pd

from sensiflow.compare import disagreement_flags, measures_table, rank_correlations
from sensiflow.local import STANDARDISED


def _tables(grad, s1, st, mu, bound):
    names = ["a", "b", "c", "d"]
    local = pd.DataFrame(
        [
            {"source": "data rows", "input": n, "statistic": s, "units": STANDARDISED, "value": v}
            for n, v in zip(names, grad, strict=True)
            for s in ("mean_abs", "rms")
        ]
    )
    sobol = pd.DataFrame(
        [
            {"index": i, "input": n, "estimate": v, "ci_low": v - 0.01}
            for i, values in (("S1", s1), ("ST", st))
            for n, v in zip(names, values, strict=True)
        ]
    )
    morris = pd.DataFrame({"input": names, "mu_star": mu})
    dgsm = pd.DataFrame({"input": names, "bound": bound})
    return local, sobol, morris, dgsm


def test_agreeing_measures_rank_alike():
    local, sobol, morris, dgsm = _tables(
        [4, 3, 2, 1],
        [0.4, 0.3, 0.2, 0.05],
        [0.45, 0.3, 0.2, 0.05],
        [8, 6, 4, 1],
        [0.5, 0.4, 0.3, 0.1],
    )
    table = measures_table(local, sobol, morris, dgsm)
    ranks = table.pivot(index="input", columns="measure", values="rank")
    assert (ranks.T == [1, 2, 3, 4]).all().all()
    corr = rank_correlations(table)
    np.testing.assert_allclose(corr["spearman_rho"], 1.0)
    assert disagreement_flags(table, sobol, rank_gap=3).empty


def test_a_locally_steep_but_globally_minor_input_is_flagged():
    # d has the steepest gradient at the data rows but almost no share of the variance
    local, sobol, morris, dgsm = _tables(
        [1, 2, 3, 9],
        [0.5, 0.3, 0.15, 0.01],
        [0.5, 0.3, 0.2, 0.1],
        [8, 6, 4, 1],
        [0.6, 0.4, 0.3, 0.2],
    )
    table = measures_table(local, sobol, morris, dgsm)
    flags = disagreement_flags(table, sobol, rank_gap=3)
    pairs = set(zip(flags["input"], flags["flag"], strict=True))
    assert ("d", "local and global ranks disagree") in pairs
    assert ("a", "local and global ranks disagree") in pairs  # ranks 4 and 1: gap 3
    assert ("b", "local and global ranks disagree") not in pairs  # ranks 3 and 2
    top = flags[flags["flag"] == "top 3 differ"]["detail"].item()
    assert top == "mean |grad|: d, c, b; ST: a, b, c"  # in rank order
    assert ("d", "interactions") in set(zip(flags["input"], flags["flag"], strict=True))
    corr = rank_correlations(table).set_index(["measure_a", "measure_b"])
    assert corr.loc[("mean_abs_grad", "ST"), "spearman_rho"] < 0
