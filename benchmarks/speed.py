"""Sobol' analysis of the 11-15-1 network: the usual Python path against sensiflow's, in one
process, on the same network, input space and seed.

Usual path: SALib ``sample.sobol`` -> Keras ``model.predict`` (its default batch of 32, and
batch 65536) -> SALib ``analyze.sobol``. sensiflow's path: the streamed Saltelli design
evaluated chunk by chunk with the compiled batch functions (outputs, and gradients at the base
points for DGSM) -> the Sobol' engine with bootstrap intervals -> the Sobol' and DGSM tables.

For each N and with and without second-order indices, prints and writes per stage the wall
time and the peak resident memory, checks that the designs are bit-identical and how far the
point estimates are apart, and gives the ratios usual / sensiflow. TensorFlow's import and the
one-off compilation of each path's functions are timed apart and left out of the totals.
sensiflow's stages are the best of ``--repeats`` (5) runs; the usual path runs once (it takes
minutes). A benchmark, not a test: it asserts nothing about time.

Run from the repository root, with sensiflow installed::

    python benchmarks/speed.py                   # N = 2^12, 2^14, 2^16 (several minutes)
    python benchmarks/speed.py --large           # also N = 2^18, 2^20 for sensiflow alone
    python benchmarks/speed.py --sizes 12 --skip-default-batch   # a quick look

BLAS runs one thread, as in the workflow's one-thread jobs (Snakemake sets
OPENBLAS_NUM_THREADS to a job's threads); set OPENBLAS_NUM_THREADS yourself to change that.
"""

from __future__ import annotations

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # before numpy is imported

import argparse  # noqa: E402
import re  # noqa: E402
import time  # noqa: E402
from collections.abc import Callable  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from sensiflow.config import validate  # noqa: E402
from sensiflow.data import load_bundled_wine  # noqa: E402
from sensiflow.designs import sobol_chunks, sobol_design, sobol_spec  # noqa: E402
from sensiflow.dgsm import dgsm_table  # noqa: E402
from sensiflow.sobol import sobol_indices, sobol_table  # noqa: E402
from sensiflow.space import derive_problem  # noqa: E402

KERAS_DEFAULT_BATCH = 32
LARGE_BATCH = 65536


# --------------------------------------------------------------------------- measuring


def _peak_rss_mb() -> float:
    """The process's peak resident memory since the last reset (Linux), else since start."""
    try:
        status = Path("/proc/self/status").read_text()
        return int(re.search(r"VmHWM:\s+(\d+)", status).group(1)) / 1024
    except (OSError, AttributeError):
        import resource

        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _reset_peak_rss() -> None:
    try:  # Linux: "5" resets the peak to the current resident memory
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        pass


def measure(fn: Callable[[], Any], repeats: int = 1) -> tuple[Any, float, float]:
    """Run ``fn`` ``repeats`` times; its last result, the best wall time and the peak memory."""
    best, peak, out = np.inf, 0.0, None
    for _ in range(repeats):
        out = None
        _reset_peak_rss()
        started = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - started)
        peak = max(peak, _peak_rss_mb())
    return out, best, peak


# --------------------------------------------------------------------------- the two paths


def usual_path(
    net: Any,
    problem: dict[str, Any],
    n: int,
    second_order: bool,
    args: argparse.Namespace,
    record: Callable[..., None],
) -> dict[str, Any]:
    """SALib sample -> Keras predict (default batch, batch 65536) -> SALib analyze."""
    from SALib.analyze import sobol as salib_analyze
    from SALib.sample import sobol as salib_sample

    salib_problem = {k: problem[k] for k in ("num_vars", "names", "bounds")}
    x, seconds, peak = measure(
        lambda: salib_sample.sample(
            salib_problem, n, calc_second_order=second_order, scramble=True, seed=args.seed
        )
    )
    record("usual", "design (SALib sample.sobol)", seconds, peak, len(x))
    out = {"x": x, "design_s": seconds, "predict_s": {}}
    batches = [LARGE_BATCH] if args.skip_default_batch else [KERAS_DEFAULT_BATCH, LARGE_BATCH]
    for batch in batches:
        y, seconds, peak = measure(lambda b=batch: net.predict(x, batch_size=b, verbose=0))
        record("usual", f"evaluation (model.predict, batch {batch})", seconds, peak, len(x))
        out["predict_s"][batch] = seconds
    out["y"] = np.asarray(y, dtype=float).ravel()
    res, seconds, peak = measure(
        lambda: salib_analyze.analyze(
            salib_problem,
            out["y"],
            calc_second_order=second_order,
            num_resamples=args.resamples,
            seed=args.seed,
        )
    )
    record("usual", f"indices (SALib analyze.sobol, {args.resamples} resamples)", seconds, peak)
    out |= {"salib": res, "analyze_s": seconds}
    return out


def sensiflow_path(
    fn: Callable,
    dtype: str,
    problem: dict[str, Any],
    spec: dict[str, Any],
    args: argparse.Namespace,
    record: Callable[..., None],
) -> dict[str, Any]:
    """Streamed design and evaluation with gradients -> Sobol' engine -> Sobol' and DGSM
    tables."""
    from sensiflow.evaluate import evaluate_sobol, sobol_evaluator

    def build():
        evaluator = sobol_evaluator(fn, spec, dtype=dtype)
        evaluator.value(np.zeros((1, spec["num_vars"])))
        evaluator.value_and_gradient(np.zeros((1, spec["num_vars"])))
        return evaluator

    evaluator, seconds, peak = measure(build)
    record("sensiflow", "compile (once per process, not in the total)", seconds, peak)
    rows = spec["rows"]
    _, seconds, peak = measure(
        lambda: sum(len(r) for _, r in sobol_chunks(spec, problem, dtype=dtype)), args.repeats
    )
    record("sensiflow", "design alone (streamed; part of the next stage)", seconds, peak, rows)
    (y, moments), seconds, peak = measure(
        lambda: evaluate_sobol(evaluator, spec, problem), args.repeats
    )
    record("sensiflow", "design + evaluation + gradients", seconds, peak, rows)
    evaluation = seconds

    def indices():
        result = sobol_indices(y, spec, resamples=args.resamples, seed=args.seed)
        table = sobol_table(result, problem["names"])
        return result, dgsm_table(moments.arrays(), result.variance, problem, table)

    (result, _), seconds, peak = measure(indices, args.repeats)
    record("sensiflow", f"indices (engine, {args.resamples} resamples; + DGSM)", seconds, peak)
    return {"y": y, "result": result, "total": evaluation + seconds}


def throughput(
    fn: Callable, dtype: str, x: np.ndarray, repeats: int, record: Callable[..., None]
) -> None:
    """Outputs, and outputs with gradients, of the rows ``x`` through the compiled functions
    with batch 65536."""
    from sensiflow.evaluate import make_evaluator

    x = x.astype(dtype)
    evaluator = make_evaluator(fn, x.shape[1], batch_size=LARGE_BATCH, dtype=dtype)
    evaluator.value(x[:1])
    evaluator.value_and_gradient(x[:1])
    for name, run in (
        ("outputs", evaluator.value),
        ("outputs and gradients", evaluator.value_and_gradient),
    ):
        _, seconds, peak = measure(lambda run=run: run(x), repeats)
        record("sensiflow", f"{name}, batch {LARGE_BATCH}", seconds, peak, len(x))


def max_difference(a, b) -> float:
    """Largest absolute difference of two sets of indices (S1, ST and the S2 upper triangle)."""
    parts = [np.abs(np.asarray(a[k]) - np.asarray(b[k])).ravel() for k in ("S1", "ST")]
    if a["S2"] is not None:
        upper = np.triu_indices(len(a["S1"]), 1)
        parts.append(np.abs(np.asarray(a["S2"])[upper] - np.asarray(b["S2"])[upper]))
    return float(np.concatenate(parts).max())


def _indices(result) -> dict[str, Any]:
    return {"S1": result.S1, "ST": result.ST, "S2": result.S2}


class Stages:
    """Stage timings of the current configuration, printed as they come and kept as rows."""

    def __init__(self) -> None:
        self.rows: list[dict[str, Any]] = []
        self.config: dict[str, Any] = {}

    def __call__(self, path: str, stage: str, seconds: float, peak: float, rows=None) -> None:
        rate = rows / seconds if rows else None
        self.rows.append(
            {
                **self.config,
                "path": path,
                "stage": stage,
                "seconds": round(seconds, 4),
                "peak_rss_mb": round(peak),
                "rows": rows,
                "rows_per_s": round(rate) if rate else None,
            }
        )
        n, second_order = self.config["base_samples"], self.config["second_order"]
        label = f"N={n:<7} S2={second_order!s:5}" if n else ""
        speed = f"{rate / 1e6:7.1f} M rows/s" if rate else ""
        print(
            f"  {label:19} {path:9} {stage:54} {seconds:8.3f} s {peak:6.0f} MB {speed}",
            flush=True,
        )


def compare(
    ours: dict[str, Any],
    usual: dict[str, Any],
    spec: dict[str, Any],
    problem: dict[str, Any],
    args: argparse.Namespace,
) -> dict[str, Any]:
    """Totals, ratios and agreement of the two paths for one configuration."""
    same_outputs = sobol_indices(usual["y"], spec, resamples=2, seed=args.seed)
    row: dict[str, Any] = {}
    for batch, label in ((LARGE_BATCH, "batch_65536"), (KERAS_DEFAULT_BATCH, "default_batch")):
        predict = usual["predict_s"].get(batch)
        total = None if predict is None else usual["design_s"] + predict + usual["analyze_s"]
        row[f"usual_{label}_s"] = None if total is None else round(total, 3)
        row[f"ratio_{label}"] = None if total is None else round(total / ours["total"], 1)
    return row | {
        "design_bit_identical": bool(np.array_equal(sobol_design(spec, problem), usual["x"])),
        "engine_vs_salib_same_outputs": max_difference(_indices(same_outputs), usual["salib"]),
        "outputs_max_abs_diff": float(np.abs(ours["y"] - usual["y"]).max()),
        "indices_max_abs_diff": max_difference(_indices(ours["result"]), usual["salib"]),
    }


# --------------------------------------------------------------------------- main


def network(args: argparse.Namespace, table) -> Any:
    """The given Keras file, or an 11-15-1 network seeded with ``--seed`` and scaled to the
    wine data (untrained: the timing does not depend on the weights)."""
    import keras

    from sensiflow.model import build_network, load_keras

    if args.model:
        return load_keras(args.model, allow_unsafe=False, n_inputs=len(table.inputs))
    keras.utils.set_random_seed(args.seed)
    frame = table.frame
    return build_network(
        len(table.inputs),
        hidden_units=15,
        activation="tanh",
        x_mean=frame[table.inputs].mean().to_numpy(),
        x_sd=frame[table.inputs].std().to_numpy(),
        y_mean=float(frame[table.target].mean()),
        y_sd=float(frame[table.target].std()),
    )


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    defaults = validate({}, source="defaults")["sobol"]
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--sizes",
        type=int,
        nargs="*",
        default=[12, 14, 16],
        help="log2 N, compared with the usual path",
    )
    parser.add_argument(
        "--large", action="store_true", help="also N = 2^18 and 2^20, sensiflow's path alone"
    )
    parser.add_argument("--resamples", type=int, default=100)
    parser.add_argument("--repeats", type=int, default=5, help="best of, for sensiflow's path")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--chunk-rows", type=int, default=defaults["chunk_rows"])
    parser.add_argument("--model", help="a .keras file (default: a seeded 11-15-1 network)")
    parser.add_argument(
        "--skip-default-batch",
        action="store_true",
        help="leave out model.predict at its default batch (the slowest stage)",
    )
    parser.add_argument(
        "--throughput-rows", type=int, default=2**20, help="rows for the rows/s measurement"
    )
    parser.add_argument("--out", default="results/benchmarks/speed", help="folder for the CSVs")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    started = time.perf_counter()
    import tensorflow as tf

    from sensiflow.evaluate import configure_tensorflow
    from sensiflow.model import model_callable

    device = configure_tensorflow()
    import_seconds = time.perf_counter() - started
    table = load_bundled_wine()
    problem = derive_problem(
        table.frame, table.inputs, method="range", quantiles=(0.0, 1.0), overrides={}
    )
    net = network(args, table)
    card = {"source": "keras", "input_scaling": None, "output_scaling": None}
    fn, dtype = model_callable(card, ".", net=net)
    net.predict(np.zeros((KERAS_DEFAULT_BATCH + 1, problem["num_vars"])), verbose=0)  # warm-up
    print(
        f"sensiflow speed benchmark: D = {problem['num_vars']}, {args.resamples} resamples, "
        f"seed {args.seed}, {device}, {os.cpu_count()} CPUs, TensorFlow {tf.__version__} "
        f"(import {import_seconds:.1f} s, not counted), OPENBLAS_NUM_THREADS="
        f"{os.environ.get('OPENBLAS_NUM_THREADS')}, load average "
        f"{' '.join(f'{v:.1f}' for v in os.getloadavg())}",
        flush=True,
    )
    stages = Stages()
    summary: list[dict[str, Any]] = []
    for log2n in list(args.sizes) + ([18, 20] if args.large else []):
        for second_order in (True, False):
            stages.config = {"base_samples": 2**log2n, "second_order": second_order}
            spec = sobol_spec(
                problem,
                base_samples=2**log2n,
                second_order=second_order,
                scramble=True,
                seed=args.seed,
                chunk_rows=args.chunk_rows,
            )
            ours = sensiflow_path(fn, dtype, problem, spec, args, stages)
            row = {
                **stages.config,
                "evaluations": spec["rows"],
                "sensiflow_s": round(ours["total"], 4),
            }
            if log2n in args.sizes:
                usual = usual_path(net, problem, 2**log2n, second_order, args, stages)
                row |= compare(ours, usual, spec, problem, args)
                del usual
            summary.append(row)
    stages.config = {"base_samples": None, "second_order": None}
    lo, hi = np.array(problem["bounds"]).T
    x = np.random.default_rng(args.seed).uniform(lo, hi, (args.throughput_rows, len(lo)))
    throughput(fn, dtype, x, args.repeats, stages)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    pd.DataFrame(stages.rows).convert_dtypes().to_csv(out / "stages.csv", index=False)
    frame = pd.DataFrame(summary)
    frame.to_csv(out / "summary.csv", index=False)
    with pd.option_context("display.width", 250, "display.max_columns", 30):
        print("\n" + frame.to_string(index=False, na_rep="", float_format="{:.3g}".format))
    print(f"written: {out / 'stages.csv'}, {out / 'summary.csv'}")


if __name__ == "__main__":
    main()
