"""The input space: one distribution per input, derived once from the training data (or the
analytic function's domain), overridable per input, stored as a SALib problem."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from sensiflow.config import check_distribution
from sensiflow.errors import SensiflowError
from sensiflow.functions import Function

SALIB_NAMES = {
    "uniform": "unif",
    "normal": "norm",
    "truncnormal": "truncnorm",
    "lognormal": "lognorm",
    "triangular": "triang",
    "loguniform": "logunif",
}


def derive_problem(
    train: pd.DataFrame | None,
    inputs: list[str],
    *,
    method: str,
    quantiles: tuple[float, float],
    overrides: dict[str, dict[str, Any]],
    function: Function | None = None,
) -> dict[str, Any]:
    """Build the SALib problem for the inputs.

    Parameters
    ----------
    train : DataFrame or None
        Training rows (needed for methods ``range`` and ``quantiles``).
    inputs : list of str
        Input names, in model order.
    method : {"auto", "range", "quantiles", "function"}
        ``range``: uniform on the training min/max; ``quantiles``: uniform between training
        quantiles; ``function``: the analytic function's domain; ``auto``: ``function`` when a
        function is given, else ``range``.
    quantiles : (float, float)
        Lower and upper quantile for ``quantiles``.
    overrides : dict
        Input name to a distribution with named parameters (see ``config.yaml``).
    function : Function, optional

    Returns
    -------
    dict
        A SALib problem (``num_vars``, ``names``, ``bounds``, ``dists``) plus ``distributions``:
        the named parameters and origin of each input.
    """
    unknown = sorted(set(overrides) - set(inputs))
    if unknown:
        raise SensiflowError(
            "config", f"space.inputs.{unknown[0]}: not an input (inputs: {', '.join(inputs)})"
        )
    if method == "auto":
        method = "function" if function is not None else "range"
    distributions = []
    for i, name in enumerate(inputs):
        if name in overrides:
            dist = {**overrides[name], "origin": "config"}
        elif method == "function":
            if function is None:
                raise SensiflowError("config", "space.method: 'function' needs a function")
            lo, hi = function.bounds[i]
            dist = {
                "dist": "uniform",
                "lower": float(lo),
                "upper": float(hi),
                "origin": f"{function.name} domain",
            }
        else:
            column = train[name]
            if method == "range":
                lo, hi, origin = column.min(), column.max(), "training range"
            else:
                lo, hi = column.quantile(list(quantiles))
                origin = f"training quantiles {quantiles[0]:g}-{quantiles[1]:g}"
            if not lo < hi:
                raise SensiflowError(
                    "config",
                    f"space.inputs.{name}: the derived range "
                    f"[{lo:g}, {hi:g}] is empty; give its bounds",
                )
            dist = {"dist": "uniform", "lower": float(lo), "upper": float(hi), "origin": origin}
        distributions.append({"input": name, **dist})
    return {
        "num_vars": len(inputs),
        "names": list(inputs),
        "bounds": [salib_bounds(d) for d in distributions],
        "dists": [SALIB_NAMES[d["dist"]] for d in distributions],
        "distributions": distributions,
    }


def salib_bounds(dist: dict[str, Any]) -> list[float]:
    """The ``bounds`` entry SALib expects for one named distribution."""
    kind = dist["dist"]
    if kind in ("uniform", "loguniform"):
        return [dist["lower"], dist["upper"]]
    if kind == "normal":
        return [dist["mean"], dist["sd"]]
    if kind == "truncnormal":
        return [dist["lower"], dist["upper"], dist["mean"], dist["sd"]]
    if kind == "lognormal":
        return [dist["log_mean"], dist["log_sd"]]
    peak = (dist["mode"] - dist["lower"]) / (dist["upper"] - dist["lower"])
    return [dist["lower"], dist["upper"], peak]


def check_problem(problem: dict[str, Any], where: str) -> None:
    """Check a problem read from a file: names, counts and each distribution's parameters."""

    def fail(field: str, message: str) -> None:
        raise SensiflowError(where, f"{field}: {message}")

    for key in ("num_vars", "names", "distributions"):
        if key not in problem:
            fail(key, "missing")
    if not (problem["num_vars"] == len(problem["names"]) == len(problem["distributions"])):
        fail("num_vars", "does not match the number of names and distributions")
    for dist in problem["distributions"]:
        if dist.get("dist") not in SALIB_NAMES:
            fail(
                f"distributions.{dist.get('input')}.dist",
                f"unknown distribution {dist.get('dist')!r} (one of {', '.join(SALIB_NAMES)})",
            )
        params = {k: v for k, v in dist.items() if k not in ("input", "origin")}
        check_distribution(params, f"distributions.{dist['input']}", fail)


def ppf(
    unit: np.ndarray, problem: dict[str, Any], *, morris_levels: int | None = None
) -> np.ndarray:
    """Map unit-cube points to the inputs' distributions (inverse CDF per column).

    Uniform inputs use ``u * (upper - lower) + lower``, the same arithmetic as SALib, so designs
    are bit-identical to SALib's. With ``morris_levels`` p, non-uniform inputs take the Morris
    grid's levels at the centres of p equal-probability cells, ``(u(p-1) + 1/2) / p``, so that
    no level maps to an infinite quantile.
    """
    dists = problem["distributions"]
    if all(d["dist"] == "uniform" for d in dists):
        lower = np.array([d["lower"] for d in dists])
        upper = np.array([d["upper"] for d in dists])
        return unit * (upper - lower) + lower
    out = np.empty_like(unit, dtype=np.float64)
    for j, dist in enumerate(dists):
        u = unit[:, j]
        kind = dist["dist"]
        if kind == "uniform":
            out[:, j] = u * (dist["upper"] - dist["lower"]) + dist["lower"]
            continue
        if morris_levels is not None:
            u = (u * (morris_levels - 1) + 0.5) / morris_levels
        if kind == "lognormal":  # as SALib computes it, to the last bit
            out[:, j] = np.exp(stats.norm.ppf(u, loc=dist["log_mean"], scale=dist["log_sd"]))
        else:
            out[:, j] = frozen(dist).ppf(u)
    return out


def frozen(dist: dict[str, Any]) -> Any:
    """The scipy.stats frozen distribution of one named distribution."""
    kind = dist["dist"]
    if kind == "uniform":
        return stats.uniform(loc=dist["lower"], scale=dist["upper"] - dist["lower"])
    if kind == "normal":
        return stats.norm(loc=dist["mean"], scale=dist["sd"])
    if kind == "truncnormal":
        a = (dist["lower"] - dist["mean"]) / dist["sd"]
        b = (dist["upper"] - dist["mean"]) / dist["sd"]
        return stats.truncnorm(a, b, loc=dist["mean"], scale=dist["sd"])
    if kind == "lognormal":
        return stats.lognorm(s=dist["log_sd"], scale=math.exp(dist["log_mean"]))
    if kind == "triangular":
        width = dist["upper"] - dist["lower"]
        return stats.triang((dist["mode"] - dist["lower"]) / width, loc=dist["lower"], scale=width)
    return stats.loguniform(dist["lower"], dist["upper"])


def poincare_constant(dist: dict[str, Any]) -> tuple[float | None, str]:
    """Poincare constant C with Var f(X) <= C E[f'(X)^2], used for the DGSM bound on ST.

    Returns ``(C, reason)``; ``C`` is None where no bound is offered. Uniform on [a, b]:
    (b - a)^2 / pi^2; normal: sd^2 (Sobol' & Kucherenko 2009, Lamboni et al. 2013);
    truncated normal: min(sd^2, (b - a)^2 / pi^2) and triangular: (b - a)^2 / pi^2, both
    log-concave densities on an interval (Brascamp-Lieb; Payne-Weinberger).
    """
    kind = dist["dist"]
    if kind == "uniform":
        return (dist["upper"] - dist["lower"]) ** 2 / math.pi**2, "uniform: (b-a)^2/pi^2"
    if kind == "normal":
        return dist["sd"] ** 2, "normal: sd^2"
    if kind == "truncnormal":
        c = min(dist["sd"] ** 2, (dist["upper"] - dist["lower"]) ** 2 / math.pi**2)
        return c, "truncated normal: min(sd^2, (b-a)^2/pi^2)"
    if kind == "triangular":
        return (dist["upper"] - dist["lower"]) ** 2 / math.pi**2, "triangular: (b-a)^2/pi^2"
    return None, f"{kind}: no Poincare constant offered, no bound"


TAILS = (0.01, 0.99)
TAIL_WARNING = 0.2


def coverage(
    problem: dict[str, Any],
    train: pd.DataFrame,
    pairs: list[dict[str, Any]],
    *,
    n: int = 4096,
    seed: int = 0,
) -> dict[str, Any]:
    """How much of the input space the training data cover.

    Per input: the fraction of space points outside the training min/max, and the fraction in
    the training data's tails (below its 1st or above its 99th percentile, where 2% of the
    training rows lie; a uniform space over a skewed input's min/max puts much of the design
    there). Per strongly correlated pair: the fraction of independent space points farther
    from the training data's linear relation between the two inputs than any training row.
    """
    from scipy.stats import qmc

    unit = qmc.Sobol(d=problem["num_vars"], scramble=True, seed=seed).random(n)
    points = pd.DataFrame(ppf(unit, problem), columns=problem["names"])
    outside, tails = {}, {}
    for name in problem["names"]:
        lo, hi = train[name].min(), train[name].max()
        outside[name] = float(((points[name] < lo) | (points[name] > hi)).mean())
        q_lo, q_hi = train[name].quantile(list(TAILS))
        tails[name] = float(((points[name] < q_lo) | (points[name] > q_hi)).mean())
    pair_rows = []
    for pair in pairs:
        a, b = pair["inputs"]
        slope, intercept = np.polyfit(train[a], train[b], 1)
        band = np.abs(train[b] - (slope * train[a] + intercept)).max()
        off = np.abs(points[b] - (slope * points[a] + intercept)) > band
        pair_rows.append(
            {
                "inputs": [a, b],
                "pearson_r": pair["pearson_r"],
                "fraction_off_training_relation": float(off.mean()),
                "training_band": float(band),
            }
        )
    return {
        "points": n,
        "fraction_outside_training_range": outside,
        "tail_quantiles": list(TAILS),
        "fraction_in_training_tails": tails,
        "correlated_pairs": pair_rows,
    }
