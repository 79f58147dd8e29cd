"""Ensembles of networks: one network per training seed, each analysed on its own, summarised
here across seeds.

A sensitivity that changes with the training seed describes the seed, not the system. For every
measure of the comparison table (S1, ST, Morris mu*, the DGSM bound and the local gradient
measures) and every input this module gives the mean over seeds, the spread, an interval that
combines each seed's sampling uncertainty with the seed-to-seed spread, and how stable the
ranking is.

Combining the two sources of uncertainty (law of total variance)
-----------------------------------------------------------------
Seed s's estimate is ``theta_hat_s = theta_s + e_s``: ``theta_s`` is the index of the network
that seed s trained, ``e_s`` the sampling error of its estimate, with variance ``v_s`` (the
squared standard error: the bootstrap half-width divided by the normal quantile for Sobol' and
Morris, ``sd(|g|) / sqrt(n)`` for the mean absolute gradient over n rows). Over random seeds,

    Var(theta_hat) = E[Var(theta_hat | s)] + Var(E[theta_hat | s]) = W + B,

W the mean within-seed sampling variance and B the between-seed variance of the networks'
true indices. The sample variance S^2 of the k estimates has expectation B + W, so B is
estimated by the method of moments as ``max(0, S^2 - W)`` (as in random-effects meta-analysis,
DerSimonian and Laird 1986) and the total variance ``T = W + max(0, S^2 - W) = max(S^2, W)``.
Two intervals follow, both with the normal quantile z of the confidence level:

- ``ci_low``/``ci_high``: the ensemble mean, ``mean +- z sqrt(T / k)`` (its variance is
  (B + W) / k), which narrows as seeds are added;
- ``one_low``/``one_high``: where one network's estimate falls, ``mean +- z sqrt(T)``.

Where a measure has no within-seed standard error (``rms_grad``, ``dgsm_bound``), W = 0 and
T = S^2, whose expectation already includes that measure's sampling noise. With few seeds B
is itself uncertain (k - 1 degrees of freedom) and the intervals are approximate.

Rank stability
--------------
Each input's reference rank under a measure is its rank by the ensemble mean (1 = most
influential; ties share the best rank). ``rank_stability`` is the fraction of seeds in which
the input has exactly that rank; ``top_frequency`` the fraction in which it is among the top
``top``. Per measure, ``set_stability`` is the fraction of seeds whose top-``top`` set equals
the ensemble's, ``order_stability`` the fraction whose ordered top ``top`` equals it.
"""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from sensiflow.compare import MEASURES
from sensiflow.errors import SensiflowError
from sensiflow.local import STANDARDISED

VALUE_COLUMNS = ["model", "measure", "input", "value", "rank", "sampling_se"]


def normal_quantile(conf_level: float) -> float:
    """The two-sided normal quantile z of a confidence level (1.959964 for 0.95)."""
    return float(stats.norm.ppf(0.5 + conf_level / 2))


def seed_values(
    model: str,
    comparison: pd.DataFrame,
    sobol: pd.DataFrame,
    morris: pd.DataFrame,
    local: pd.DataFrame,
    *,
    sobol_conf_level: float,
    morris_conf_level: float,
) -> pd.DataFrame:
    """One seed's value, rank and sampling standard error of every measure and input.

    Parameters
    ----------
    model : str
        The model id (``seed<N>``).
    comparison, sobol, morris, local : DataFrame
        The seed's comparison, Sobol', Morris and local tables.
    sobol_conf_level, morris_conf_level : float
        The confidence levels of the Sobol' half-widths and of Morris ``mu_star_conf``.

    Returns
    -------
    DataFrame with columns model, measure, input, value, rank (1 = most influential, as in the
    comparison table) and sampling_se: the standard error of the estimate within this seed,
    NaN for measures without one (``rms_grad``, ``dgsm_bound``).
    """
    se: dict[str, pd.Series] = {}
    for index in ("S1", "ST"):
        rows = sobol[sobol["index"] == index].set_index("input")
        se[index] = rows["half_width"] / normal_quantile(sobol_conf_level)
    se["mu_star"] = morris.set_index("input")["mu_star_conf"] / normal_quantile(morris_conf_level)
    se["mean_abs_grad"] = _mean_abs_se(local)
    table = comparison[["measure", "input", "value", "rank"]].copy()
    table.insert(0, "model", model)
    table["sampling_se"] = [
        se[m].get(name, np.nan) if m in se else np.nan
        for m, name in zip(table["measure"], table["input"], strict=True)
    ]
    return table[VALUE_COLUMNS].reset_index(drop=True)


def _mean_abs_se(local: pd.DataFrame) -> pd.Series:
    """Standard error of the mean |dy/dx| over the rows it was taken on (standardised units;
    the data rows when there are any, else the design base points, as in the comparison):
    sd(|g|) / sqrt(n), with sd(|g|)^2 = (rms^2 - mean_abs^2) n / (n - 1)."""
    source = "data rows" if (local["source"] == "data rows").any() else "design base points"
    sel = local[(local["source"] == source) & (local["units"] == STANDARDISED)]
    wide = sel.pivot(index="input", columns="statistic", values="value")
    n = sel.groupby("input")["n"].first()
    var_abs = np.maximum(wide["rms"] ** 2 - wide["mean_abs"] ** 2, 0.0)
    return np.sqrt(var_abs / (n - 1).where(n > 1))


def combine_seeds(values: pd.DataFrame, *, conf_level: float) -> pd.DataFrame:
    """Mean, spread and combined intervals of every measure and input across seeds.

    Parameters
    ----------
    values : DataFrame
        Rows of :func:`seed_values` for k >= 2 models.
    conf_level : float
        Confidence level of the intervals.

    Returns
    -------
    DataFrame, one row per measure and input, with columns measure, input, seeds (k), mean,
    sd_seeds (sample sd of the k estimates, ddof 1), sd_within (sqrt of the mean sampling
    variance W; NaN where the measure has none), sd_between (sqrt max(0, S^2 - W)), sd_total
    (sqrt T, T = max(S^2, W)), ci_low, ci_high (ensemble mean +- z sqrt(T / k)), one_low,
    one_high (mean +- z sqrt(T): one network), min, max, rank (of the mean) and description.
    See the module docstring for the reasoning.
    """
    z = normal_quantile(conf_level)
    rows = []
    for (measure, name), group in values.groupby(["measure", "input"], sort=False):
        k = len(group)
        x = group["value"].to_numpy(float)
        v = group["sampling_se"].to_numpy(float) ** 2
        s2 = float(np.var(x, ddof=1)) if k > 1 else np.nan
        within = float(v.mean()) if np.isfinite(v).all() else np.nan
        w = 0.0 if np.isnan(within) else within
        total = max(s2, w)
        mean = float(x.mean())
        rows.append(
            {
                "measure": measure,
                "input": name,
                "seeds": k,
                "mean": mean,
                "sd_seeds": np.sqrt(s2),
                "sd_within": np.sqrt(within),
                "sd_between": np.sqrt(max(s2 - w, 0.0)),
                "sd_total": np.sqrt(total),
                "ci_low": mean - z * np.sqrt(total / k),
                "ci_high": mean + z * np.sqrt(total / k),
                "one_low": mean - z * np.sqrt(total),
                "one_high": mean + z * np.sqrt(total),
                "min": float(x.min()),
                "max": float(x.max()),
                "description": MEASURES.get(measure, ("", ""))[1],
            }
        )
    table = pd.DataFrame(rows)
    reference = _reference_ranks(values)
    table.insert(
        table.columns.get_loc("description"),
        "rank",
        [reference[key] for key in zip(table["measure"], table["input"], strict=True)],
    )
    return table


def rank_stability(values: pd.DataFrame, *, top: int = 3) -> pd.DataFrame:
    """How often each input holds its rank across seeds.

    Returns
    -------
    DataFrame, one row per measure and input, with columns measure, input, rank (by the
    ensemble mean), rank_stability (fraction of seeds with that rank), modal_rank and
    modal_frequency (the rank seeds give most often, the smallest on a tie, and the fraction
    of seeds giving it; the rank of the mean can be one no seed gives), rank_min, rank_max
    (over seeds) and top_frequency (fraction of seeds with the input in their top ``top``).
    Seeds' ranks are taken from their values the same way (1 = largest; ties share the best).
    """
    ranked = _with_seed_ranks(values)
    reference = _reference_ranks(values)
    rows = []
    for (measure, name), group in ranked.groupby(["measure", "input"], sort=False):
        ref = reference[(measure, name)]
        r = group["seed_rank"].to_numpy(float)
        ranks, counts = np.unique(r, return_counts=True)
        rows.append(
            {
                "measure": measure,
                "input": name,
                "rank": ref,
                "rank_stability": float(np.mean(r == ref)) if np.isfinite(ref) else np.nan,
                "modal_rank": ranks[np.argmax(counts)],
                "modal_frequency": counts.max() / len(r),
                "rank_min": r.min(),
                "rank_max": r.max(),
                "top_frequency": float(np.mean(r <= top)),
            }
        )
    return pd.DataFrame(rows)


def top_stability(values: pd.DataFrame, *, top: int = 3) -> pd.DataFrame:
    """Whether the top-``top`` inputs hold across seeds, per measure.

    Returns
    -------
    DataFrame, one row per measure, with columns measure, top (the ensemble's top inputs by
    mean, most influential first, joined by ``; ``), seeds, set_stability (fraction of seeds
    with the same top set), order_stability (fraction with the same ordered top),
    mean_spearman (mean Spearman rho between the seeds' values over all pairs of seeds; NaN
    for fewer than two seeds or a constant measure).
    """
    means = values.groupby(["measure", "input"], sort=False)["value"].mean()
    rows = []
    for measure, group in values.groupby("measure", sort=False):
        reference = _top_order(means[measure], top)
        per_seed = [
            _top_order(g.set_index("input")["value"], top)
            for _, g in group.groupby("model", sort=False)
        ]
        wide = group.pivot(index="input", columns="model", values="value")
        rhos = [
            stats.spearmanr(wide[a], wide[b]).statistic
            for a, b in itertools.combinations(wide.columns, 2)
            if wide[a].nunique() > 1 and wide[b].nunique() > 1
        ]
        rows.append(
            {
                "measure": measure,
                "top": "; ".join(reference),
                "seeds": len(per_seed),
                "set_stability": float(np.mean([set(s) == set(reference) for s in per_seed])),
                "order_stability": float(np.mean([s == reference for s in per_seed])),
                "mean_spearman": float(np.mean(rhos)) if rhos else np.nan,
            }
        )
    return pd.DataFrame(rows)


def _top_order(series: pd.Series, top: int) -> list[str]:
    """The ``top`` largest entries' labels, largest first (stable for ties: first listed)."""
    ordered = series.dropna().sort_values(ascending=False, kind="stable")
    return list(ordered.index[:top])


def _with_seed_ranks(values: pd.DataFrame) -> pd.DataFrame:
    ranked = values.copy()
    ranked["seed_rank"] = ranked.groupby(["model", "measure"])["value"].rank(
        ascending=False, method="min"
    )
    return ranked


def _reference_ranks(values: pd.DataFrame) -> dict[tuple[str, str], float]:
    means = values.groupby(["measure", "input"], sort=False)["value"].mean().reset_index()
    means["rank"] = means.groupby("measure")["value"].rank(ascending=False, method="min")
    keys = zip(means["measure"], means["input"], means["rank"], strict=True)
    return {(m, i): r for m, i, r in keys}


def fit_table(fits: dict[str, dict[str, Any]]) -> pd.DataFrame:
    """Fit quality of every model: one row per model and split (test, train).

    Returns
    -------
    DataFrame with columns model, split, r2, rmse, mae (original units of the target), rows,
    epochs.
    """
    rows = [
        {
            "model": model,
            "split": split,
            **{k: fit[split][k] for k in ("r2", "rmse", "mae", "rows")},
            "epochs": fit["epochs"],
        }
        for model, fit in fits.items()
        for split in ("test", "train")
    ]
    return pd.DataFrame(rows, columns=["model", "split", "r2", "rmse", "mae", "rows", "epochs"])


def check_same_inputs(tables: dict[str, pd.DataFrame]) -> None:
    """Every seed's comparison table must hold the same measures and inputs.

    Raises
    ------
    SensiflowError
        Naming the first file that differs from the first one.
    """
    files = list(tables)
    first = _keys(tables[files[0]])
    for path in files[1:]:
        keys = _keys(tables[path])
        if keys != first:
            extra = sorted(keys - first) or sorted(first - keys)
            raise SensiflowError(
                path,
                f"measures/inputs differ from {files[0]} (first difference: "
                f"{extra[0][0]} of {extra[0][1]!r}); every seed must analyse the same inputs",
            )


def _keys(table: pd.DataFrame) -> set[tuple[str, str]]:
    return set(zip(table["measure"], table["input"], strict=True))
