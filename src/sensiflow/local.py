"""Local sensitivity: statistics of exact gradients dy/dx_i at data rows, design points and
named operating points, in original and in standardised units.

Original units: dy/dx_i, output units per input unit. Standardised units:
dy/dx_i * sd(x_i) / sd(y), with the training data's standard deviations, unit-free and
comparable across inputs. Never one labelled as the other.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

ORIGINAL = "original: dy/dx"
STANDARDISED = "standardised: dy/dx * sd(x) / sd(y)"
STATISTICS = ("mean", "sd", "mean_abs", "rms")


def gradient_statistics(g: np.ndarray) -> dict[str, np.ndarray]:
    """Mean, standard deviation (ddof 1), mean absolute value and root mean square per column."""
    g = np.asarray(g, dtype=float)
    n = len(g)
    return {
        "mean": g.mean(axis=0),
        "sd": g.std(axis=0, ddof=1) if n > 1 else np.zeros(g.shape[1]),
        "mean_abs": np.abs(g).mean(axis=0),
        "rms": np.sqrt((g * g).mean(axis=0)),
    }


def moment_statistics(moments: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """The same statistics from running sums (count, sum, sum_sq, sum_abs)."""
    n = float(moments["count"])
    mean = moments["sum"] / n
    var = np.maximum(moments["sum_sq"] - n * mean**2, 0.0) / max(n - 1, 1)
    return {
        "mean": mean,
        "sd": np.sqrt(var),
        "mean_abs": moments["sum_abs"] / n,
        "rms": np.sqrt(moments["sum_sq"] / n),
    }


def standardising_factors(
    names: list[str], statistics: dict[str, dict[str, float]], target: str
) -> np.ndarray:
    """sd(x_i) / sd(y) from the training statistics of the data summary."""
    sd_y = statistics[target]["sd"]
    return np.array([statistics[n]["sd"] for n in names]) / sd_y


def local_table(
    names: list[str],
    factors: np.ndarray,
    *,
    data_gradients: np.ndarray,
    design_moments: dict[str, np.ndarray],
    point_names: list[str],
    point_gradients: np.ndarray,
) -> pd.DataFrame:
    """The tidy local-sensitivity table.

    Returns
    -------
    DataFrame with columns source (``data rows``, ``design base points``, ``point: <name>``),
    n (gradients summarised), input, statistic, units, value.
    """
    records: list[dict[str, Any]] = []

    def add(source: str, n: int, stats: dict[str, np.ndarray]) -> None:
        for units, scale in ((ORIGINAL, 1.0), (STANDARDISED, factors)):
            for stat, values in stats.items():
                # sd, mean_abs and rms scale by |factor|; mean and gradient keep its sign
                scaled = values * scale
                for name, value in zip(names, scaled, strict=True):
                    records.append(
                        {
                            "source": source,
                            "n": n,
                            "input": name,
                            "statistic": stat,
                            "units": units,
                            "value": float(value),
                        }
                    )

    if len(data_gradients):
        add("data rows", len(data_gradients), gradient_statistics(data_gradients))
    add("design base points", int(design_moments["count"]), moment_statistics(design_moments))
    for point, g in zip(point_names, point_gradients, strict=True):
        add(f"point: {point}", 1, {"gradient": np.asarray(g, float)})
    return pd.DataFrame(records)
