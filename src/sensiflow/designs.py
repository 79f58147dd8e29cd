"""Sampling designs: Saltelli's scheme on a scrambled Sobol' sequence, built vectorised and
streamed in chunks, and Morris trajectories.

The Sobol' design is bit-identical to ``SALib.sample.sobol.sample`` for the same problem, N,
seed and settings. Its rows never need to exist all at once: :func:`sobol_chunks` rebuilds them
chunk by chunk from the design's spec (``sobol.json``), which also fixes ``second_order`` for
the analysis, so design and analysis cannot disagree. :func:`sobol_stacks` gives the same
chunks as stacked Saltelli matrices, the layout the evaluation and the estimators read.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np
from scipy.stats import qmc

from sensiflow.errors import SensiflowError
from sensiflow.space import ppf


def sobol_spec(
    problem: dict[str, Any],
    *,
    base_samples: int,
    second_order: bool,
    scramble: bool,
    seed: int,
    chunk_rows: int = 1024,
) -> dict[str, Any]:
    """Describe a Saltelli design completely (it is regenerated from this, never stored)."""
    d = problem["num_vars"]
    per_base = 2 * d + 2 if second_order else d + 2
    return {
        "method": "saltelli-sobol",
        "num_vars": d,
        "names": problem["names"],
        "base_samples": base_samples,
        "second_order": second_order,
        "scramble": scramble,
        "seed": seed,
        "rows_per_base": per_base,
        "rows": base_samples * per_base,
        "chunk_rows": _chunk_size(chunk_rows, base_samples),
        "layout": "per base row: A, AB_1..AB_D, [BA_1..BA_D if second_order], B",
    }


def _chunk_size(chunk_rows: int, base_samples: int) -> int:
    # a power of two, so that every chunk of the Sobol' sequence keeps its balance properties
    size = 1 << max(0, int(chunk_rows).bit_length() - 1)
    return min(size, base_samples)


def saltelli_matrices(base: np.ndarray, second_order: bool) -> np.ndarray:
    """Saltelli's matrices of base points (n, 2D), columns A then B, stacked.

    Returns an ndarray of shape (rows_per_base, n, D) and the dtype of ``base``: A;
    AB_k (A with column k from B) for every k; with ``second_order``, BA_k (B with column k
    from A) for every k; then B. Design row order interleaves them (see
    :func:`saltelli_block`); kept apart, each matrix is one contiguous block, so the A and B
    rows of a chunk are slices and the estimators read whole rows of outputs.
    """
    n, two_d = base.shape
    d = two_d // 2
    a, b = base[:, :d], base[:, d:]
    per_base = 2 * d + 2 if second_order else d + 2
    out = np.empty((per_base, n, d), dtype=base.dtype)
    out[0] = a
    out[1 : d + 1] = a
    idx = np.arange(d)
    out[1 + idx, :, idx] = b.T
    if second_order:
        out[d + 1 : 2 * d + 1] = b
        out[d + 1 + idx, :, idx] = a.T
    out[-1] = b
    return out


def saltelli_block(base: np.ndarray, second_order: bool) -> np.ndarray:
    """Arrange base points (n, 2D), columns A then B, in Saltelli's (and SALib's) row order.

    Returns an ndarray of shape (n * rows_per_base, D): for each base row, A; AB_k for every
    k; with ``second_order``, BA_k for every k; then B.
    """
    stack = saltelli_matrices(base, second_order)
    return stack.transpose(1, 0, 2).reshape(-1, stack.shape[2])


def sobol_stacks(
    spec: dict[str, Any], problem: dict[str, Any], *, dtype: str = "float64"
) -> Iterator[tuple[int, np.ndarray]]:
    """Yield ``(first_base_row, matrices)`` chunk by chunk, matrices of shape
    (rows_per_base, rows of the chunk, D) as :func:`saltelli_matrices`, scaled to the input
    distributions.

    ``dtype`` is the type the model reads. The points are always computed in float64 (the
    values SALib gives) and cast once, before they are copied into the matrices: casting
    then copying gives the same values as copying then casting, with a quarter of the
    casts and half the memory traffic.
    """
    engine = qmc.Sobol(d=2 * spec["num_vars"], scramble=spec["scramble"], seed=spec["seed"])
    n, step = spec["base_samples"], spec["chunk_rows"]
    d = spec["num_vars"]
    for start in range(0, n, step):
        base = engine.random(min(step, n - start))
        # scale A and B (rows of 2D values viewed as pairs of D-rows) before arranging them:
        # the design's values are copies of these, so the arithmetic is done once per value
        scaled = ppf(base.reshape(-1, d), problem).reshape(base.shape)
        yield start, saltelli_matrices(scaled.astype(dtype, copy=False), spec["second_order"])


def sobol_chunks(spec: dict[str, Any], problem: dict[str, Any]) -> Iterator[tuple[int, np.ndarray]]:
    """Yield ``(first_base_row, rows)`` chunk by chunk, rows in the design's order and scaled to
    the input distributions. Chunk boundaries do not change a single bit of the design."""
    for start, stack in sobol_stacks(spec, problem):
        yield start, stack.transpose(1, 0, 2).reshape(-1, spec["num_vars"])


def sobol_design(spec: dict[str, Any], problem: dict[str, Any]) -> np.ndarray:
    """The whole Saltelli design at once (for small N and for tests)."""
    return np.concatenate([rows for _, rows in sobol_chunks(spec, problem)])


def sobol_rows(spec: dict[str, Any], problem: dict[str, Any], rows: list[int]) -> np.ndarray:
    """Selected rows of the Saltelli design, rebuilt from its spec (for error messages)."""
    wanted = np.asarray(rows)
    out = np.empty((len(wanted), spec["num_vars"]))
    per_base = spec["rows_per_base"]
    for start, chunk in sobol_chunks(spec, problem):
        local = wanted - start * per_base
        hit = (local >= 0) & (local < len(chunk))
        out[hit] = chunk[local[hit]]
    return out


def morris_design(
    problem: dict[str, Any], *, trajectories: int, levels: int, seed: int
) -> tuple[np.ndarray, np.ndarray]:
    """Morris trajectories (SALib ``sample.morris``) on the unit grid and in input units.

    Returns
    -------
    unit : ndarray of shape (trajectories * (D + 1), D)
        Grid values in [0, 1]; SALib's ``analyze.morris`` reads these, so elementary effects
        are per unit-normalised step and mu* is in output units.
    x : ndarray of the same shape
        The points in input units (see :func:`sensiflow.space.ppf` for non-uniform inputs).
    """
    from SALib.sample import morris as morris_sample

    d = problem["num_vars"]
    unit_problem = {"num_vars": d, "names": problem["names"], "bounds": [[0.0, 1.0]] * d}
    unit = morris_sample.sample(unit_problem, trajectories, num_levels=levels, seed=seed)
    return unit, ppf(unit, problem, morris_levels=levels)


def check_finite(x: np.ndarray, names: list[str], *, first_row: int, field: str) -> None:
    """Refuse a design with infinite or NaN values, naming the input and rows."""
    bad = ~np.isfinite(x)
    if not bad.any():
        return
    column = int(np.flatnonzero(bad.any(axis=0))[0])
    rows = (np.flatnonzero(bad[:, column]) + first_row)[:5].tolist()
    raise SensiflowError(
        field,
        f"input {names[column]!r} maps to an infinite or undefined value "
        f"at {int(bad[:, column].sum())} design row(s) (first: "
        f"{', '.join(map(str, rows))}); an unscrambled Sobol' sequence "
        "starts at 0, which an unbounded distribution sends to -inf: "
        "set sobol.scramble: true or bound the distribution",
    )


def design_summary(
    spec: dict[str, Any], problem: dict[str, Any], morris_x: np.ndarray
) -> list[dict[str, Any]]:
    """Per design and input, the realised mean, sd, min and max; refuses non-finite designs.

    The Sobol' design is streamed, so this also checks every row before any evaluation.
    """
    d = spec["num_vars"]
    total, total_sq = np.zeros(d), np.zeros(d)
    lo, hi = np.full(d, np.inf), np.full(d, -np.inf)
    for start, rows in sobol_chunks(spec, problem):
        check_finite(
            rows, spec["names"], first_row=start * spec["rows_per_base"], field="sobol.scramble"
        )
        total += rows.sum(axis=0)
        total_sq += (rows**2).sum(axis=0)
        lo, hi = np.minimum(lo, rows.min(axis=0)), np.maximum(hi, rows.max(axis=0))
    check_finite(morris_x, spec["names"], first_row=0, field="morris")
    n = spec["rows"]
    mean = total / n
    sd = np.sqrt(np.maximum(total_sq / n - mean**2, 0.0) * n / max(n - 1, 1))
    records = []
    for j, name in enumerate(spec["names"]):
        records.append(
            {
                "design": "sobol",
                "input": name,
                "rows": n,
                "mean": mean[j],
                "sd": sd[j],
                "min": lo[j],
                "max": hi[j],
            }
        )
    for j, name in enumerate(spec["names"]):
        col = morris_x[:, j]
        records.append(
            {
                "design": "morris",
                "input": name,
                "rows": len(col),
                "mean": col.mean(),
                "sd": col.std(ddof=1),
                "min": col.min(),
                "max": col.max(),
            }
        )
    return records
