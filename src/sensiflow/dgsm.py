"""Derivative-based global sensitivity measures from exact gradients.

nu_i = E[(dy/dx_i)^2] over the design's base points (Sobol' & Kucherenko 2009), and the upper
bound it gives on the total index, ST_i <= C_i nu_i / Var(y), with C_i the Poincare constant
of input i's distribution (see :func:`sensiflow.space.poincare_constant`).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from sensiflow.space import poincare_constant


def dgsm_table(
    moments: dict[str, np.ndarray],
    variance: float,
    problem: dict[str, Any],
    sobol: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """DGSM per input, with the bound on ST and its check against the Sobol' estimate.

    Parameters
    ----------
    moments : dict
        ``count`` and ``sum_sq`` of the gradients over the base points.
    variance : float
        Output variance over the design.
    problem : dict
        The input space (distributions give the Poincare constants).
    sobol : DataFrame, optional
        The Sobol' table; adds ST, its interval and ``bound_holds`` (bound >= ST's lower end).

    Returns
    -------
    DataFrame with columns input, nu, poincare_constant, constant_rule, bound[, ST, ST_low,
    bound_holds]. ``nu`` is in (output units / input units)^2; ``bound`` is unit-free and NaN
    where no constant applies.
    """
    nu = np.asarray(moments["sum_sq"], float) / float(moments["count"])
    rows = []
    for name, dist, value in zip(problem["names"], problem["distributions"], nu, strict=True):
        constant, rule = poincare_constant(dist)
        bound = (
            constant * value / variance
            if constant is not None and variance > 0
            else (0.0 if constant is not None else np.nan)
        )
        rows.append(
            {
                "input": name,
                "nu": value,
                "poincare_constant": np.nan if constant is None else constant,
                "constant_rule": rule,
                "bound": bound,
            }
        )
    table = pd.DataFrame(rows)
    if sobol is not None:
        st = sobol[sobol["index"] == "ST"].set_index("input")
        table["ST"] = table["input"].map(st["estimate"])
        table["ST_low"] = table["input"].map(st["ci_low"])
        table["bound_holds"] = np.where(
            table["bound"].isna(), pd.NA, table["bound"] >= table["ST_low"] - 1e-12
        )
    return table
