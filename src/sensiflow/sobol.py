"""Sobol' indices from a Saltelli design, with bootstrap intervals, in one streaming pass.

Estimators are those of ``SALib.analyze.sobol``: S1 after Saltelli et al. (2010), ST after
Jansen (1999), S2 after Saltelli (2002), all on outputs normalised by their overall mean and
standard deviation. Every estimate is a ratio of means of per-row terms, so a bootstrap
resample, which repeats each base row a number of times, is a weighted mean: all resamples of
all indices come from one matrix product ``W @ T`` of resample counts W (R x n) and per-row
terms T (n x k), accumulated chunk by chunk. Raw terms are taken about a provisional centre and
the normalisation is applied algebraically at the end, so nothing of size N is kept but the
chunk at hand. (The products are small: on a small machine shared with TensorFlow or other
jobs, OpenBLAS's busy-waiting threads can make them several times slower, which
``OPENBLAS_NUM_THREADS=1`` avoids.)

Index estimates are reported raw: with small N they can be negative or S1 can exceed ST; such
estimates are flagged rather than clipped.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy.stats import norm

EPS = np.finfo(float).eps


@dataclass
class SobolResult:
    """Sobol' indices of one output.

    Attributes
    ----------
    S1, ST : ndarray of shape (D,)
    S2 : ndarray of shape (D, D) or None
        Upper triangle filled, the rest NaN (as SALib).
    half_widths : dict
        ``S1``, ``ST`` (and ``S2``): normal-approximation half-widths z * sd(bootstrap), which
        SALib reports as ``*_conf``.
    replicates : dict
        Bootstrap replicates per index, shape (R, D) or (R, D, D), where kept.
    conf_level : float
    variance : float
        Output variance over the whole design (population), in output units squared.
    constant : bool
        True when the output did not vary; all indices are then 0.
    """

    S1: np.ndarray
    ST: np.ndarray
    S2: np.ndarray | None
    half_widths: dict[str, np.ndarray]
    replicates: dict[str, np.ndarray]
    conf_level: float
    variance: float
    constant: bool = False

    def interval(self, index: str, method: str) -> tuple[np.ndarray, np.ndarray]:
        """Lower and upper bounds: ``normal`` (estimate -+ half-width) or ``percentile``
        (bootstrap quantiles)."""
        estimate = getattr(self, index)
        if method == "normal":
            return estimate - self.half_widths[index], estimate + self.half_widths[index]
        if index not in self.replicates:
            raise ValueError(f"no bootstrap replicates of {index} for percentile intervals")
        alpha = (1 - self.conf_level) / 2
        boot = self.replicates[index]
        return np.quantile(boot, alpha, axis=0), np.quantile(boot, 1 - alpha, axis=0)


def _half_width(boot: np.ndarray, conf_level: float) -> np.ndarray:
    if len(boot) < 2:
        return np.full(boot.shape[1:], np.nan)
    return norm.ppf(0.5 + conf_level / 2) * boot.std(axis=0, ddof=1)


def _result(
    point: tuple, boot: tuple, conf_level: float, variance: float, constant: bool = False
) -> SobolResult:
    names = ("S1", "ST", "S2")
    replicates = {n: b for n, b in zip(names, boot, strict=True) if b is not None}
    return SobolResult(
        point[0],
        point[1],
        point[2],
        {n: _half_width(b, conf_level) for n, b in replicates.items()},
        replicates,
        conf_level,
        variance,
        constant,
    )


class SobolAccumulator:
    """Accumulate Saltelli-design outputs chunk by chunk; :meth:`result` gives the indices.

    Parameters
    ----------
    spec : dict
        The design spec (:func:`sensiflow.designs.sobol_spec`): ``num_vars``,
        ``base_samples``, ``second_order``, ``rows_per_base``, ``chunk_rows``.
    resamples : int
        Bootstrap resamples R.
    seed : int
        Seed of the resample draws.
    conf_level : float
    weights : ndarray of shape (R, N), optional
        Explicit resample counts (each row sums to N), e.g. from SALib's own draws; default
        draws them chunk by chunk, equivalent in law to drawing N row indices with replacement.
    """

    def __init__(
        self,
        spec: dict[str, Any],
        *,
        resamples: int = 100,
        seed: int = 0,
        conf_level: float = 0.95,
        weights: np.ndarray | None = None,
    ) -> None:
        self.d = spec["num_vars"]
        self.n = spec["base_samples"]
        self.second_order = spec["second_order"]
        self.per_base = spec["rows_per_base"]
        self.resamples = resamples if weights is None else len(weights)
        self.conf_level = conf_level
        self.pairs = list(itertools.combinations(range(self.d), 2)) if self.second_order else []
        self._weights = None if weights is None else np.asarray(weights, dtype=float)
        self._rng = np.random.default_rng(seed)
        chunk = spec["chunk_rows"]
        sizes = [min(chunk, self.n - s) for s in range(0, self.n, chunk)]
        # how many of each resample's N draws fall in each chunk of base rows
        self._chunk_counts = self._rng.multinomial(
            self.n, np.array(sizes) / self.n, size=self.resamples
        )
        self._chunk_starts = {s: i for i, s in enumerate(range(0, self.n, chunk))}
        self._k = 2 + 3 * self.d + (self.d + len(self.pairs) if self.second_order else 0)
        self._point = np.zeros(self._k)
        self._boot = np.zeros((self.resamples, self._k))
        self._centre: float | None = None
        self._sum = self._sum_sq = 0.0
        self._min, self._max = np.inf, -np.inf
        self._rows_seen = 0

    def add(self, first_base_row: int, y: np.ndarray) -> None:
        """Add the outputs of whole base rows, starting at base row ``first_base_row``.

        ``y`` is either flat, in design row order (rows_per_base values per base row), or of
        shape (rows_per_base, n): one row per Saltelli matrix, as the model's outputs on
        :func:`sensiflow.designs.sobol_stacks`. Chunks must follow the design's chunking
        (``spec["chunk_rows"]``) when resamples are drawn here.
        """
        y = np.asarray(y, dtype=float)
        if y.ndim == 1:
            y = y.reshape(-1, self.per_base).T
        if y.ndim != 2 or y.shape[0] != self.per_base:
            raise ValueError(
                f"outputs of shape {y.shape}: expected {self.per_base} rows, one per "
                "Saltelli matrix, or a flat array in design row order"
            )
        if self._centre is None:
            self._centre = float(y.mean())
        # one pass that centres and lays each matrix's outputs out as one contiguous row
        y = np.subtract(y, self._centre, order="C")
        self._sum += y.sum()
        self._sum_sq += np.vdot(y, y)
        self._min, self._max = min(self._min, y.min()), max(self._max, y.max())
        self._rows_seen += y.size
        terms = self._terms(y)
        self._point += terms.sum(axis=1)
        # all resamples at once: resample counts (R x n) times the terms (n x k); the
        # transposed view costs no copy, BLAS reads it as it is
        self._boot += self._chunk_weights(first_base_row, y.shape[1]) @ terms.T

    def _terms(self, y: np.ndarray) -> np.ndarray:
        """Per-row terms of every estimator, shape (k, n), from centred outputs (per_base, n).

        Rows: a^2 + b^2, a + b, b (ab_i - a), ab_i - a, (ab_i - a)^2, and with second order
        ba_i - b and ba_j ab_k - a b for each pair j < k (a, b, ab_i, ba_i: outputs of A, B,
        AB_i, BA_i). Written in place into one array, a row at a time.
        """
        d = self.d
        a, b, ab = y[0], y[-1], y[1 : d + 1]
        t = np.empty((self._k, y.shape[1]))
        np.multiply(a, a, out=t[0])
        t[0] += b * b
        np.add(a, b, out=t[1])
        diff = np.subtract(ab, a, out=t[2 + d : 2 + 2 * d])
        np.multiply(b, diff, out=t[2 : 2 + d])
        np.multiply(diff, diff, out=t[2 + 2 * d : 2 + 3 * d])
        if self.second_order:
            ba = y[d + 1 : 2 * d + 1]
            np.subtract(ba, b, out=t[2 + 3 * d : 2 + 4 * d])
            row = 2 + 4 * d
            for j in range(d - 1):  # pairs (j, j+1), ..., (j, d-1), as itertools.combinations
                np.multiply(ab[j + 1 :], ba[j], out=t[row : row + d - 1 - j])
                row += d - 1 - j
            t[2 + 4 * d :] -= a * b
        return t

    def _chunk_weights(self, start: int, length: int) -> np.ndarray:
        """Resample counts of this chunk's base rows, shape (R, length).

        Resample r draws ``counts[r]`` of its N rows in this chunk (the multinomial split
        drawn at the start), uniformly among the chunk's rows: together, the draws of a
        resample are N uniform draws with replacement, as in SALib. All draws of the chunk
        are counted at once as cells r * length + row; the rows are drawn in the smallest
        unsigned type that holds them, several times faster than int64.
        """
        if self._weights is not None:
            return self._weights[:, start : start + length]
        counts = self._chunk_counts[:, self._chunk_starts[start]]
        cells = np.repeat(np.arange(0, self.resamples * length, length), counts)
        small = np.uint16 if length <= 1 << 16 else np.uint32
        cells += self._rng.integers(length, size=len(cells), dtype=small)
        flat = np.bincount(cells, minlength=self.resamples * length)
        return flat.reshape(self.resamples, length).astype(float)

    def result(self) -> SobolResult:
        """The indices and their bootstrap replicates."""
        rows = self._rows_seen
        if rows != self.n * self.per_base:
            raise ValueError(f"saw {rows} design rows, expected {self.n * self.per_base}")
        m = self._sum / rows  # mean of (y - centre)
        var = max(self._sum_sq / rows - m * m, 0.0)
        s = np.sqrt(var)
        scale = max(abs(self._centre or 0.0), np.sqrt(self._sum_sq / rows), 1e-300)
        if s <= 64 * EPS * scale or self._max - self._min <= EPS:
            return self._constant_result()
        point = self._indices(self._point[None] / self.n, m, s)
        boot = self._indices(self._boot / self.n, m, s)
        return _result(
            tuple(None if p is None else p[0] for p in point), boot, self.conf_level, var
        )

    def _constant_result(self) -> SobolResult:
        d, r = self.d, self.resamples
        s2 = boot2 = None
        if self.second_order:
            s2 = np.full((d, d), np.nan)
            s2[np.triu_indices(d, 1)] = 0.0
            boot2 = np.repeat(s2[None], r, axis=0)
        return _result(
            (np.zeros(d), np.zeros(d), s2),
            (np.zeros((r, d)), np.zeros((r, d)), boot2),
            self.conf_level,
            0.0,
            constant=True,
        )

    def _indices(
        self, means: np.ndarray, m: float, s: float
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
        d = self.d
        q0, q1 = means[:, 0], means[:, 1]
        p, diff, sq = (
            means[:, 2 : 2 + d],
            means[:, 2 + d : 2 + 2 * d],
            means[:, 2 + 2 * d : 2 + 3 * d],
        )
        s2 = s * s
        # variance of the normalised A and B outputs, as np.var(np.r_[A, B]) in SALib
        var = (q0 - 2 * m * q1 + 2 * m * m) / (2 * s2) - ((q1 - 2 * m) / (2 * s)) ** 2
        ok = var > EPS
        safe = np.where(ok, var, 1.0)[:, None]
        s1 = np.where(ok[:, None], (p - m * diff) / s2 / safe, 0.0)
        st = np.where(ok[:, None], 0.5 * sq / s2 / safe, 0.0)
        if not self.second_order:
            return s1, st, None
        ba_diff = means[:, 2 + 3 * d : 2 + 4 * d]
        u = means[:, 2 + 4 * d :]
        j, k = np.array(self.pairs).T
        v = np.where(ok[:, None], (u - m * (ba_diff[:, j] + diff[:, k])) / s2 / safe, 0.0)
        s2_mat = np.full((len(means), d, d), np.nan)
        s2_mat[:, j, k] = v - s1[:, j] - s1[:, k]
        return s1, st, s2_mat


def sobol_indices(
    y: np.ndarray,
    spec: dict[str, Any],
    *,
    resamples: int = 100,
    seed: int = 0,
    conf_level: float = 0.95,
    weights: np.ndarray | None = None,
) -> SobolResult:
    """Sobol' indices of outputs ``y`` (design row order) of the design described by ``spec``.

    Parameters
    ----------
    y : ndarray of shape (N * rows_per_base,)
    spec : dict
        The design's spec; its ``second_order`` decides which indices are estimated.
    resamples, seed, conf_level, weights
        See :class:`SobolAccumulator`.
    """
    y = np.asarray(y, dtype=float).ravel()
    if len(y) != spec["rows"]:
        raise ValueError(f"{len(y)} outputs for a design of {spec['rows']} rows")
    acc = SobolAccumulator(
        spec, resamples=resamples, seed=seed, conf_level=conf_level, weights=weights
    )
    step, per_base = spec["chunk_rows"], spec["rows_per_base"]
    for start in range(0, spec["base_samples"], step):
        acc.add(start, y[start * per_base : (start + step) * per_base])
    return acc.result()


def salib_indices(
    y: np.ndarray,
    spec: dict[str, Any],
    problem: dict[str, Any],
    *,
    resamples: int = 100,
    seed: int = 0,
    conf_level: float = 0.95,
) -> SobolResult:
    """The same indices through ``SALib.analyze.sobol``, the reference implementation.

    SALib keeps S1 and ST replicates but not S2 ones, so S2 has only its normal half-width.
    A constant output (for which SALib divides by a zero standard deviation) gives zeros.
    """
    from SALib.analyze import sobol as salib_sobol

    y = np.asarray(y, dtype=float).ravel()
    if np.ptp(y) <= EPS:
        return sobol_indices(y, spec, resamples=resamples, seed=seed, conf_level=conf_level)
    salib_problem = {
        "num_vars": spec["num_vars"],
        "names": problem["names"],
        "bounds": problem["bounds"],
    }
    res = salib_sobol.analyze(
        salib_problem,
        y,
        calc_second_order=spec["second_order"],
        num_resamples=resamples,
        conf_level=conf_level,
        seed=seed,
        keep_resamples=True,
    )
    out = _result(
        (res["S1"], res["ST"], None),
        (res["S1_conf_all"], res["ST_conf_all"], None),
        conf_level,
        float(np.var(y)),
    )
    if spec["second_order"]:
        out.S2 = res["S2"]
        out.half_widths["S2"] = res["S2_conf"]
    return out


def sobol_table(
    result: SobolResult, names: list[str], *, interval: str = "normal", estimator: str = "sensiflow"
) -> pd.DataFrame:
    """Tidy table: one row per index and input (or input pair).

    Columns: index (S1, ST, S2), input, input_2 (S2 only), estimate, half_width (normal
    approximation), ci_low, ci_high (the chosen ``interval``), interval, estimator, flag.
    Negative estimates and S1 > ST are kept as estimated and flagged, with whether 0 (or the
    difference) lies inside the interval; the remedy is a larger base sample.
    """
    label = f"{interval} {result.conf_level * 100:g}%"
    rows: list[dict[str, Any]] = []
    for index in ("S1", "ST"):
        estimate = getattr(result, index)
        low, high = result.interval(index, interval)
        for i, name in enumerate(names):
            rows.append(
                {
                    "index": index,
                    "input": name,
                    "input_2": "",
                    "estimate": estimate[i],
                    "half_width": result.half_widths[index][i],
                    "ci_low": low[i],
                    "ci_high": high[i],
                }
            )
    if result.S2 is not None:
        low, high = result.interval("S2", interval)
        for i, j in itertools.combinations(range(len(names)), 2):
            rows.append(
                {
                    "index": "S2",
                    "input": names[i],
                    "input_2": names[j],
                    "estimate": result.S2[i, j],
                    "half_width": result.half_widths["S2"][i, j],
                    "ci_low": low[i, j],
                    "ci_high": high[i, j],
                }
            )
    table = pd.DataFrame(rows)
    table["interval"] = label
    table["estimator"] = estimator
    table["flag"] = _flags(table)
    return table


ADVICE = "increase sobol.base_samples"
WIDE = 0.05  # a half-width above 5% of Var(y) is too wide to tell small indices apart


def _flags(table: pd.DataFrame) -> list[str]:
    """Notes on estimates that cannot be true indices: negative values and S1 > ST.

    Each says whether the interval still admits a true value (0, or S1 <= ST), in which case
    the estimate is consistent with it. The advice :data:`ADVICE` is added where it is not,
    or where the interval is wider than :data:`WIDE`.
    """
    st = table[table["index"] == "ST"].set_index("input")
    flags = []
    for row in table.itertuples():
        notes = []
        if row.estimate < 0:
            consistent = row.ci_low <= 0 <= row.ci_high
            notes.append(
                "negative estimate, "
                + ("0 inside its interval" if consistent else "0 outside its interval")
                + _advice(consistent, row.half_width)
            )
        if row.index == "S1" and row.estimate > st.loc[row.input, "estimate"] + 1e-12:
            consistent = row.ci_low <= st.loc[row.input, "ci_high"]
            notes.append(
                "S1 > ST "
                + ("within their intervals" if consistent else "beyond their intervals")
                + _advice(consistent, max(row.half_width, st.loc[row.input, "half_width"]))
            )
        flags.append("; ".join(notes))
    return flags


def _advice(consistent: bool, half_width: float) -> str:
    if consistent and not half_width > WIDE:
        return ": consistent, only sampling noise"
    return f" (half-width {half_width:.3f}): {ADVICE}"


def describe(interval: str, estimator: str) -> dict[str, str]:
    """Estimators and units of the Sobol' table, for its metadata."""
    return {
        "S1": "Saltelli et al. (2010)",
        "ST": "Jansen (1999)",
        "S2": "Saltelli (2002)",
        "normalisation": "outputs centred and scaled by their overall mean and sd (SALib)",
        "interval": interval,
        "engine": estimator,
        "units": "unit-free fractions of Var(y)",
    }
