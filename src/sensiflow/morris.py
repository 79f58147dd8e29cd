"""Morris elementary effects (SALib ``analyze.morris``) in a tidy table."""

from __future__ import annotations

import logging
import warnings
from typing import Any

import numpy as np
import pandas as pd

log = logging.getLogger(__name__)


def morris_indices(
    unit_x: np.ndarray,
    y: np.ndarray,
    names: list[str],
    *,
    levels: int,
    resamples: int = 1000,
    conf_level: float = 0.95,
    seed: int = 0,
) -> pd.DataFrame:
    """mu, mu*, sigma and the bootstrap half-width of mu* per input.

    Elementary effects are taken on the unit grid the design was drawn on
    (``(y(x + delta e_i) - y(x)) / delta`` with delta a fraction of the input's range), so mu
    and mu* are in output units per full-range step and comparable across inputs; for
    y = sum c_i x_i on uniform bounds, mu_i = c_i (b_i - a_i).

    Parameters
    ----------
    unit_x : ndarray of shape (r * (D + 1), D)
        The design on the unit grid (see :func:`sensiflow.designs.morris_design`).
    y : ndarray of shape (r * (D + 1),)
    names : list of str
    levels, resamples, conf_level, seed
        As in ``SALib.analyze.morris.analyze``.

    Returns
    -------
    DataFrame with columns input, mu, mu_star, sigma, mu_star_conf.
    """
    from SALib.analyze import morris as salib_morris

    d = len(names)
    problem = {"num_vars": d, "names": names, "bounds": [[0.0, 1.0]] * d}
    y = np.asarray(y, dtype=float)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        res = salib_morris.analyze(
            problem,
            unit_x,
            y,
            num_resamples=resamples,
            conf_level=conf_level,
            num_levels=levels,
            seed=seed,
        )
    for w in caught:
        log.warning("SALib: %s", w.message)
    frame = pd.DataFrame(
        {
            "input": names,
            "mu": np.asarray(res["mu"], float),
            "mu_star": np.asarray(res["mu_star"], float),
            "sigma": np.asarray(res["sigma"], float),
            "mu_star_conf": np.asarray(res["mu_star_conf"], float),
        }
    )
    return frame.fillna({"sigma": 0.0, "mu_star_conf": 0.0})


def describe() -> dict[str, Any]:
    """Units and estimator of the Morris table, for its metadata."""
    return {
        "estimator": "Morris elementary effects, SALib analyze.morris (Campolongo et al. 2007 mu*)",
        "units": "output units per step of the whole input range (unit-normalised grid)",
    }
