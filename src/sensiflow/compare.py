"""Local versus global: one table of every measure per input, ranks, rank correlations
between measures, and flags where the measures disagree."""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from sensiflow.local import STANDARDISED

MEASURES = {
    "mean_abs_grad": ("local", "mean |dy/dx| at the data rows, standardised units"),
    "rms_grad": ("local", "root-mean-square dy/dx at the data rows, standardised units"),
    "S1": ("global", "Sobol' first-order index (Saltelli 2010), unit-free"),
    "ST": ("global", "Sobol' total index (Jansen), unit-free"),
    "mu_star": ("global", "Morris mu*, output units per full-range step"),
    "dgsm_bound": ("global", "DGSM upper bound on ST, C nu / Var(y), unit-free"),
}
INTERACTION_GAP = 0.05


def measures_table(
    local: pd.DataFrame, sobol: pd.DataFrame, morris: pd.DataFrame, dgsm: pd.DataFrame
) -> pd.DataFrame:
    """Tidy table input x measure with value and rank (1 = most influential).

    Local measures use the data rows when there are any, else the design base points, in
    standardised units, so they compare across inputs whatever each input's unit.
    """
    sources = local["source"].unique()
    source = "data rows" if "data rows" in sources else "design base points"
    sel = local[(local["source"] == source) & (local["units"] == STANDARDISED)]
    wide = {
        "mean_abs_grad": sel[sel["statistic"] == "mean_abs"].set_index("input")["value"],
        "rms_grad": sel[sel["statistic"] == "rms"].set_index("input")["value"],
        "S1": sobol[sobol["index"] == "S1"].set_index("input")["estimate"],
        "ST": sobol[sobol["index"] == "ST"].set_index("input")["estimate"],
        "mu_star": morris.set_index("input")["mu_star"],
        "dgsm_bound": dgsm.set_index("input")["bound"],
    }
    names = list(morris["input"])
    records = []
    for measure, series in wide.items():
        values = series.reindex(names)
        ranks = values.rank(ascending=False, method="min")
        for name in names:
            kind, description = MEASURES[measure]
            records.append(
                {
                    "input": name,
                    "measure": measure,
                    "kind": kind,
                    "value": values[name],
                    "rank": ranks[name],
                    "description": description
                    if measure not in ("mean_abs_grad", "rms_grad")
                    else description.replace("data rows", source),
                }
            )
    return pd.DataFrame(records)


def rank_correlations(table: pd.DataFrame) -> pd.DataFrame:
    """Spearman's rho and Kendall's tau between every pair of measures with complete values."""
    wide = table.pivot(index="input", columns="measure", values="value")
    measures = [m for m in MEASURES if m in wide and wide[m].notna().all()]
    rows = []
    for a, b in itertools.combinations(measures, 2):
        if wide[a].nunique() < 2 or wide[b].nunique() < 2:
            rho = tau = np.nan
        else:
            rho = stats.spearmanr(wide[a], wide[b]).statistic
            tau = stats.kendalltau(wide[a], wide[b]).statistic
        rows.append({"measure_a": a, "measure_b": b, "spearman_rho": rho, "kendall_tau": tau})
    return pd.DataFrame(rows)


def disagreement_flags(
    table: pd.DataFrame, sobol: pd.DataFrame, *, rank_gap: int, top: int = 3
) -> pd.DataFrame:
    """Where the measures do not tell the same story.

    Flags: an input ranked at least ``rank_gap`` places apart by the local measure (mean
    |dy/dx| at the data rows) and by ST; top-``top`` sets that differ between those two
    (listed in rank order); ST - S1 above 0.05 (interactions a gradient or S1 alone misses);
    a DGSM bound below ST's interval (should not happen).
    """
    flags: list[dict[str, Any]] = []
    ranks = table.pivot(index="input", columns="measure", values="rank")
    for name, row in ranks.iterrows():
        local, total = row["mean_abs_grad"], row["ST"]
        if abs(local - total) >= rank_gap:
            flags.append(
                {
                    "input": name,
                    "flag": "local and global ranks disagree",
                    "detail": f"rank {int(local)} by mean |grad| at the data rows, "
                    f"{int(total)} by ST",
                }
            )
    local_top = ranks["mean_abs_grad"].sort_values(kind="stable").index[:top]
    global_top = ranks["ST"].sort_values(kind="stable").index[:top]
    if set(local_top) != set(global_top):
        flags.append(
            {
                "input": "(all)",
                "flag": f"top {top} differ",
                "detail": f"mean |grad|: {', '.join(local_top)}; ST: {', '.join(global_top)}",
            }
        )
    s1 = sobol[sobol["index"] == "S1"].set_index("input")["estimate"]
    st = sobol[sobol["index"] == "ST"].set_index("input")["estimate"]
    for name in st.index:
        if st[name] - s1[name] > INTERACTION_GAP:
            flags.append(
                {
                    "input": name,
                    "flag": "interactions",
                    "detail": f"ST - S1 = {st[name] - s1[name]:.3f}: part of this input's "
                    "effect acts through interactions",
                }
            )
    bound = table[table["measure"] == "dgsm_bound"].set_index("input")["value"]
    st_low = sobol[sobol["index"] == "ST"].set_index("input")["ci_low"]
    for name in bound.index:
        if pd.notna(bound[name]) and bound[name] < st_low[name] - 1e-12:
            flags.append(
                {
                    "input": name,
                    "flag": "DGSM bound below ST",
                    "detail": f"bound {bound[name]:.4f} < ST interval low "
                    f"{st_low[name]:.4f}: check N and the gradients",
                }
            )
    return pd.DataFrame(flags, columns=["input", "flag", "detail"])
