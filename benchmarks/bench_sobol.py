"""Sobol' indices of the 11-15-1 network: the usual Python path against sensiflow's, in one
process, on the same network, input space and seed.

Usual path: ``SALib.sample.sobol`` -> ``keras.Model.predict`` (its default batch of 32, and
batch 65536) -> ``SALib.analyze.sobol`` with 100 resamples. sensiflow's path: the Saltelli
design streamed in chunks through the jit-compiled network, gradients at the base points in
the same pass, estimator sums and all bootstrap resamples accumulated as chunks arrive
(``evaluate_sobol`` with a ``SobolAccumulator``), then the indices with their intervals.

Prints stage times, peak memory and the ratios usual / sensiflow per N, checks that both give
the same point estimates from the same outputs, and writes everything as a tidy CSV. Times
are the best of several runs where a run is short (``--repeats``, within a time budget per
stage), else of one run; TensorFlow's import and compilation are outside the timings (the
compile time is printed). Run from the repository root:

    .venv/bin/python benchmarks/bench_sobol.py            # N = 2^12, 2^14, 2^16 (about 5 min)
    .venv/bin/python benchmarks/bench_sobol.py --large    # and 2^18 .. 2^20, sensiflow alone
    .venv/bin/python benchmarks/bench_sobol.py --default-batch-max 14  # no batch-32 run at 2^16
"""

from __future__ import annotations

import os

# Before numpy loads OpenBLAS: its threads busy-wait after each product, and on a small
# machine they take the cores TensorFlow's thread is using (or that other processes use);
# the estimator's products are small enough that one thread is faster. The usual path does
# no BLAS work to speak of (SALib's estimators are element-wise, Keras runs TensorFlow's
# own kernels), so this does not slow it. Override by setting the variable yourself.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import argparse  # noqa: E402
import csv  # noqa: E402
import platform  # noqa: E402
import resource  # noqa: E402
import threading  # noqa: E402
import time  # noqa: E402
from collections.abc import Callable  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

import numpy as np  # noqa: E402

RESAMPLES = 100
GRADIENT_BATCH = 65536
TARGETS = {
    "seconds_2^16": 0.5,
    "ratio_batch_65536": 100.0,
    "ratio_batch_32": 250.0,
    "seconds_2^20": 15.0,
    "peak_gb_2^20": 4.0,
    "gradient_rows_per_s": 10e6,
}


# --------------------------------------------------------------------------- measuring


def rss_bytes() -> int:
    """Resident memory of this process now (Linux /proc; 0 elsewhere)."""
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except OSError:
        return 0


class PeakMemory:
    """Highest resident memory while the ``with`` block runs, sampled every 2 ms, in MB
    above the memory at its start."""

    def __enter__(self) -> PeakMemory:
        self.start = self.peak = rss_bytes()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True)
        self._thread.start()
        return self

    def _watch(self) -> None:
        while not self._stop.wait(0.002):
            self.peak = max(self.peak, rss_bytes())

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, rss_bytes())

    @property
    def above_start_mb(self) -> float:
        return (self.peak - self.start) / 1e6


def best_of(run: Callable[[], dict[str, float]], repeats: int, budget_s: float) -> dict:
    """Run at least once and up to ``repeats`` times while the time spent stays within
    ``budget_s``. Returns, per stage, the shortest and the median time, and the count."""
    runs: list[dict[str, float]] = []
    spent = 0.0
    while len(runs) < repeats and (not runs or spent < budget_s):
        runs.append(run())
        spent += max(runs[-1].values())
    stages = runs[0].keys()
    return {
        "times": {k: min(r[k] for r in runs) for k in stages},
        "median": {k: float(np.median([r[k] for r in runs])) for k in stages},
        "runs": len(runs),
    }


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    started = time.perf_counter()
    out = fn()
    return time.perf_counter() - started, out


# --------------------------------------------------------------------------- the two paths


def usual_path(net, salib_problem, n, second_order, seed, *, default_batch, repeats, budget):
    """SALib sample -> Keras predict (batch 32 and 65536) -> SALib analyze."""
    from SALib.analyze import sobol as salib_analyze
    from SALib.sample import sobol as salib_sample

    out: dict[str, Any] = {}

    def sample() -> dict[str, float]:
        seconds, out["x"] = timed(
            lambda: salib_sample.sample(
                salib_problem, n, calc_second_order=second_order, scramble=True, seed=seed
            )
        )
        return {"sample": seconds}

    def predict(batch: int) -> Callable[[], dict[str, float]]:
        def run() -> dict[str, float]:
            seconds, y = timed(lambda: net.predict(out["x"], batch_size=batch, verbose=0))
            out[f"y{batch}"] = np.asarray(y, dtype=np.float64).ravel()
            return {"predict": seconds}

        return run

    def analyze() -> dict[str, float]:
        seconds, out["salib"] = timed(
            lambda: salib_analyze.analyze(
                salib_problem,
                out["y65536"],
                calc_second_order=second_order,
                num_resamples=RESAMPLES,
                seed=seed,
            )
        )
        return {"analyze": seconds}

    with PeakMemory() as memory:
        stages = best_of(sample, repeats, budget)["times"]
        stages_32 = best_of(predict(32), repeats, budget)["times"] if default_batch else None
        stages_big = best_of(predict(65536), repeats, budget)["times"]
        stages.update(best_of(analyze, repeats, budget)["times"])
    paths = {"usual (batch 65536)": {**stages, **stages_big}}
    if stages_32 is not None:
        paths["usual (batch 32)"] = {**stages, **stages_32}
    for times in paths.values():
        times["total"] = times["sample"] + times["predict"] + times["analyze"]
    return paths, memory.above_start_mb, out


def sensiflow_path(evaluator, spec, problem, seed, *, repeats, budget):
    """Design, evaluation, gradients and estimator sums in one streamed pass, then the
    indices with their intervals."""
    from sensiflow.designs import sobol_stacks
    from sensiflow.evaluate import evaluate_sobol
    from sensiflow.sobol import SobolAccumulator

    out: dict[str, Any] = {}

    def run() -> dict[str, float]:
        started = time.perf_counter()
        acc = SobolAccumulator(spec, resamples=RESAMPLES, seed=seed)
        evaluate_sobol(evaluator, spec, problem, accumulator=acc, keep_outputs=False)
        passed = time.perf_counter()
        out["result"] = acc.result()
        done = time.perf_counter()
        return {"pass": passed - started, "indices": done - passed, "total": done - started}

    def design_only() -> dict[str, float]:
        seconds, _ = timed(lambda: sum(1 for _ in sobol_stacks(spec, problem, dtype="float32")))
        return {"design alone": seconds}

    with PeakMemory() as memory:
        measured = best_of(run, repeats, budget)
    times = measured["times"]
    times["total (median)"] = measured["median"]["total"]
    times.update(best_of(design_only, repeats, budget)["times"])
    return times, memory.above_start_mb, out["result"], measured["runs"]


def max_difference(ours, salib_result, second_order: bool) -> float:
    """Largest absolute difference of S1, ST (and S2) between our result and SALib's dict."""
    diffs = [np.abs(ours.S1 - salib_result["S1"]).max(), np.abs(ours.ST - salib_result["ST"]).max()]
    if second_order:
        upper = np.triu_indices(len(ours.S1), 1)
        diffs.append(np.abs(ours.S2[upper] - salib_result["S2"][upper]).max())
    return float(max(diffs))


def gradient_throughput(fn, problem, repeats: int) -> dict[str, float]:
    """Rows per second of values and of values + gradients (batched tape, XLA) on 2^20
    points of the input space, in batches of 65536, numpy in and out (the Evaluator)."""
    import tensorflow as tf

    from sensiflow.evaluate import make_evaluator
    from sensiflow.space import ppf

    x = ppf(np.random.default_rng(0).random((1 << 20, problem["num_vars"])), problem)
    x = x.astype(np.float32)
    ev = make_evaluator(fn, problem["num_vars"], batch_size=GRADIENT_BATCH)
    ev.value(x[:GRADIENT_BATCH])
    ev.value_and_gradient(x[:GRADIENT_BATCH])
    # the compiled tape alone, on inputs already tensors and outputs left as tensors: what
    # the Evaluator adds to it is the copy of each batch in and of the outputs out
    tensors = [tf.constant(x[i : i + GRADIENT_BATCH]) for i in range(0, len(x), GRADIENT_BATCH)]
    runs = {"value": [], "gradient": [], "alone": []}
    for _ in range(repeats):  # interleaved, so that a change of load hits all three alike
        runs["value"].append(timed(lambda: ev.value(x))[0])
        runs["gradient"].append(timed(lambda: ev.value_and_gradient(x))[0])
        runs["alone"].append(timed(lambda: [ev._value_and_gradient(t) for t in tensors])[0])
    value, gradient, alone = (min(v) for v in runs.values())
    return {
        "value": len(x) / value,
        "value+gradient": len(x) / gradient,
        "value+gradient, compiled call alone": len(x) / alone,
    }


# --------------------------------------------------------------------------- set-up


def wine_problem() -> tuple[dict[str, Any], Any]:
    """The workflow's default input space: uniform over the wine table's input ranges."""
    from sensiflow.data import load_bundled_wine
    from sensiflow.space import derive_problem

    table = load_bundled_wine()
    problem = derive_problem(
        table.frame, table.inputs, method="range", quantiles=(0.0, 1.0), overrides={}
    )
    return problem, table


def network(table, seed: int):
    """The workflow's 11-15-1 network (scaling layers inside), weights initialised from the
    seed; evaluation cost does not depend on the weights' values, so it is not trained."""
    import keras

    from sensiflow.model import build_network

    keras.utils.set_random_seed(seed)
    x = table.frame[table.inputs].to_numpy(np.float32)
    y = table.frame[table.target].to_numpy(np.float32)
    return build_network(
        len(table.inputs),
        hidden_units=15,
        activation="tanh",
        x_mean=x.mean(axis=0),
        x_sd=x.std(axis=0),
        y_mean=float(y.mean()),
        y_sd=float(y.std()),
    )


def compiled_evaluators(fn, problem, chunk: int, seed: int) -> tuple[dict, float]:
    """One evaluator per design layout (with and without S2), compiled by a one-chunk pass."""
    from sensiflow.designs import sobol_spec
    from sensiflow.evaluate import evaluate_sobol, make_evaluator

    evaluators = {}
    started = time.perf_counter()
    for second_order in (True, False):
        spec = sobol_spec(
            problem,
            base_samples=chunk,
            second_order=second_order,
            scramble=True,
            seed=seed,
            chunk_rows=chunk,
        )
        ev = make_evaluator(
            fn,
            problem["num_vars"],
            batch_size=chunk * spec["rows_per_base"],
            gradient_batch_size=2 * chunk,
            base_rows=chunk,
        )
        evaluate_sobol(ev, spec, problem)
        evaluators[second_order] = ev
    return evaluators, time.perf_counter() - started


# --------------------------------------------------------------------------- reporting


class Results:
    """Tidy rows: n_base, second_order, rows, path, measure, value, unit."""

    def __init__(self) -> None:
        self.rows: list[dict[str, Any]] = []

    def add(self, n, second_order, rows, path, measure, value, unit) -> None:
        self.rows.append(
            {
                "n_base": n,
                "second_order": second_order,
                "rows": rows,
                "path": path,
                "measure": measure,
                "value": value,
                "unit": unit,
            }
        )

    def write(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "w", newline="") as f:
            writer = csv.DictWriter(f, fieldnames=list(self.rows[0]))
            writer.writeheader()
            writer.writerows(self.rows)


def print_block(n, second_order, rows, paths, memory, ratios, checks) -> None:
    print(
        f"\nN = 2^{n.bit_length() - 1} = {n:,}, S2 {'on' if second_order else 'off'}: "
        f"{rows:,} model evaluations"
    )
    print(
        f"  {'path':22s} {'sample/design':>13s} {'evaluate':>10s} {'analyze':>9s} "
        f"{'total s':>9s} {'peak MB':>8s} {'usual/sensiflow':>16s}"
    )
    for name, times in paths.items():
        if name == "sensiflow":
            cols = ("(in pass)", f"{times['pass']:.3f}", f"{times['indices']:.3f}")
        else:
            cols = (f"{times['sample']:.3f}", f"{times['predict']:.3f}", f"{times['analyze']:.3f}")
        ratio = f"{ratios[name]:.0f}x" if name in ratios else ""
        print(
            f"  {name:22s} {cols[0]:>13s} {cols[1]:>10s} {cols[2]:>9s} "
            f"{times['total']:9.3f} {memory[name]:8.0f} {ratio:>16s}"
        )
    for line in checks:
        print(f"  {line}")


def main(argv: list[str] | None = None) -> int:
    from sensiflow.config import validate

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--sizes",
        type=int,
        nargs="*",
        default=[12, 14, 16],
        help="log2 of the base samples N compared on both paths",
    )
    parser.add_argument(
        "--large", action="store_true", help="also N = 2^18, 2^19, 2^20 on sensiflow's path alone"
    )
    parser.add_argument(
        "--default-batch-max",
        type=int,
        default=16,
        help="largest log2 N for predict at batch 32 (about 90 s at 2^16 with S2)",
    )
    parser.add_argument(
        "--repeats",
        type=int,
        default=5,
        help="best of this many runs of each stage, within --budget seconds",
    )
    parser.add_argument("--budget", type=float, default=20.0)
    parser.add_argument(
        "--chunk-rows",
        type=int,
        default=validate({})["sobol"]["chunk_rows"],
        help="base rows per streamed chunk of sensiflow's design (default: the workflow's)",
    )
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--csv", type=Path, default=Path("results/benchmarks/bench_sobol.csv"))
    args = parser.parse_args(argv)

    started = time.perf_counter()
    import tensorflow as tf

    from sensiflow.designs import sobol_design, sobol_spec
    from sensiflow.evaluate import configure_tensorflow, evaluate_sobol
    from sensiflow.sobol import sobol_indices

    configure_tensorflow()
    import_s = time.perf_counter() - started
    from importlib.metadata import version

    problem, table = wine_problem()
    salib_problem = {k: problem[k] for k in ("num_vars", "names", "bounds")}
    net = network(table, args.seed)

    def fn(x):
        return net(x, training=False)

    evaluators, compile_s = compiled_evaluators(fn, problem, args.chunk_rows, args.seed)
    warm = np.zeros((64, problem["num_vars"]))
    net.predict(warm, batch_size=32, verbose=0)  # Keras traces its predict function once
    net.predict(warm, batch_size=65536, verbose=0)

    print(f"sensiflow Sobol' benchmark, {time.strftime('%Y-%m-%d %H:%M')}")
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, {platform.platform()}")
    print(f"load average at start: {' '.join(f'{v:.1f}' for v in os.getloadavg())}")
    print(
        f"python {platform.python_version()}, numpy {np.__version__}, tensorflow "
        f"{tf.__version__}, SALib {version('SALib')}, OPENBLAS_NUM_THREADS="
        f"{os.environ['OPENBLAS_NUM_THREADS']}"
    )
    print(
        f"network 11-15-1 tanh, float32; {RESAMPLES} resamples; sensiflow chunks of "
        f"{args.chunk_rows} base rows; times: best of up to {args.repeats} runs within "
        f"{args.budget:.0f} s per stage"
    )
    print(
        f"excluded from timings: TensorFlow import {import_s:.1f} s, sensiflow's XLA "
        f"compilation {compile_s:.2f} s (once per process and chunk shape)"
    )

    results = Results()
    headline: dict[str, float] = {}
    sizes = [1 << s for s in args.sizes]
    large = [1 << s for s in (18, 19, 20)] if args.large else []

    def spec_of(n: int, second_order: bool) -> dict:
        return sobol_spec(
            problem,
            base_samples=n,
            second_order=second_order,
            scramble=True,
            seed=args.seed,
            chunk_rows=args.chunk_rows,
        )

    for n in large:  # first, so that the process's peak memory is theirs alone
        for second_order in (True, False):
            spec = spec_of(n, second_order)
            times, memory, _, runs = sensiflow_path(
                evaluators[second_order],
                spec,
                problem,
                args.seed,
                repeats=min(args.repeats, 2),
                budget=args.budget,
            )
            peak_gb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6
            for stage, seconds in times.items():
                results.add(n, second_order, spec["rows"], "sensiflow", stage, seconds, "s")
            results.add(
                n, second_order, spec["rows"], "sensiflow", "peak_rss_process", peak_gb, "GB"
            )
            print(
                f"N = 2^{n.bit_length() - 1}, S2 {'on' if second_order else 'off'}: "
                f"{spec['rows']:,} evaluations in {times['total']:.2f} s (pass "
                f"{times['pass']:.2f} s, indices {times['indices']:.3f} s; best of {runs}), "
                f"{spec['rows'] / times['total'] / 1e6:.1f} M rows/s; peak memory above start "
                f"{memory:.0f} MB, process peak so far {peak_gb:.2f} GB"
            )
            if n == 1 << 20 and second_order:
                headline["seconds_2^20"], headline["peak_gb_2^20"] = times["total"], peak_gb

    for n in sizes:
        for second_order in (True, False):
            spec = spec_of(n, second_order)
            rows = spec["rows"]
            ours_times, ours_mb, ours, runs = sensiflow_path(
                evaluators[second_order],
                spec,
                problem,
                args.seed,
                repeats=args.repeats,
                budget=args.budget,
            )
            usual, usual_mb, usual_out = usual_path(
                net,
                salib_problem,
                n,
                second_order,
                args.seed,
                default_batch=n <= 1 << args.default_batch_max,
                repeats=args.repeats,
                budget=args.budget,
            )
            paths = {**usual, "sensiflow": ours_times}
            memory = {name: usual_mb for name in usual} | {"sensiflow": ours_mb}
            ratios = {name: t["total"] / ours_times["total"] for name, t in usual.items()}

            # checks (untimed): the same design, the same estimates from the same outputs
            same_design = np.array_equal(usual_out["x"], sobol_design(spec, problem))
            same_y = sobol_indices(usual_out["y65536"], spec, resamples=RESAMPLES, seed=args.seed)
            diff_same = max_difference(same_y, usual_out["salib"], second_order)
            diff_own = max_difference(ours, usual_out["salib"], second_order)
            y_own, _ = evaluate_sobol(evaluators[second_order], spec, problem)
            dy = float(np.abs(y_own - usual_out["y65536"]).max())
            checks = [
                f"design identical to SALib's sample.sobol: {'yes' if same_design else 'NO'}",
                f"point estimates from the same outputs (Keras predict), sensiflow vs SALib: "
                f"max |diff| = {diff_same:.1e} ({'ok' if diff_same <= 1e-10 else 'FAIL'}, "
                "limit 1e-10)",
                f"sensiflow on its own XLA float32 evaluations vs SALib on Keras's: max |diff| "
                f"= {diff_own:.1e} (outputs differ by up to {dy:.1e} in float32 rounding)",
                f"sensiflow: best of {runs} runs (median {ours_times['total (median)']:.3f} s; "
                "the usual path's slow stages run once); one pass overlaps the design (alone "
                f"{ours_times['design alone']:.3f} s), the evaluation, the gradients at the "
                f"{2 * n:,} base points (DGSM, local statistics; the usual path has none) "
                f"and the estimator sums of all {RESAMPLES} resamples",
            ]
            print_block(n, second_order, rows, paths, memory, ratios, checks)

            for name, times in paths.items():
                for stage, seconds in times.items():
                    results.add(n, second_order, rows, name, stage, seconds, "s")
                results.add(n, second_order, rows, name, "peak_rss_above_start", memory[name], "MB")
                if name in ratios:
                    results.add(
                        n, second_order, rows, name, "ratio_to_sensiflow", ratios[name], "x"
                    )
            results.add(
                n, second_order, rows, "check", "max_abs_diff_same_outputs", diff_same, "index"
            )
            results.add(
                n, second_order, rows, "check", "max_abs_diff_own_outputs", diff_own, "index"
            )
            results.add(
                n, second_order, rows, "check", "design_identical", int(same_design), "bool"
            )
            if n == 1 << 16 and second_order:
                headline["seconds_2^16"] = ours_times["total"]
                headline["ratio_batch_65536"] = ratios["usual (batch 65536)"]
                if "usual (batch 32)" in ratios:
                    headline["ratio_batch_32"] = ratios["usual (batch 32)"]
                headline["max_diff_2^16"] = diff_same

    throughput = gradient_throughput(fn, problem, args.repeats)
    for kind, rate in throughput.items():
        results.add(1 << 20, "", 1 << 20, "sensiflow", f"rows_per_s_{kind}", rate, "rows/s")
    headline["gradient_rows_per_s"] = throughput["value+gradient"]
    print(
        f"\nbatched tape, 2^20 rows in batches of {GRADIENT_BATCH} (best of {args.repeats}): "
        f"values {throughput['value'] / 1e6:.1f} M rows/s, values + gradients "
        f"{throughput['value+gradient'] / 1e6:.1f} M rows/s; the compiled call alone "
        f"(tensors in and out) {throughput['value+gradient, compiled call alone'] / 1e6:.1f} "
        "M rows/s"
    )
    print(f"load average at end: {' '.join(f'{v:.1f}' for v in os.getloadavg())}")

    print("\ntargets")
    checks = [
        ("N=2^16 with S2: design + evaluation + indices", "seconds_2^16", "<=", "s"),
        ("  usual (batch 65536) / sensiflow", "ratio_batch_65536", ">=", "x"),
        ("  usual (batch 32) / sensiflow", "ratio_batch_32", ">=", "x"),
        ("N=2^20 with S2: time", "seconds_2^20", "<", "s"),
        ("N=2^20 with S2: process peak memory", "peak_gb_2^20", "<", "GB"),
        ("gradients, batched tape", "gradient_rows_per_s", ">=", "rows/s"),
    ]
    for label, key, op, unit in checks:
        if key not in headline:
            print(f"  {label}: not measured in this run")
            continue
        value, target = headline[key], TARGETS[key]
        met = value <= target if op in ("<=", "<") else value >= target
        shown = f"{value / 1e6:.1f} M" if unit == "rows/s" else f"{value:.3g}"
        goal = f"{target / 1e6:.0f} M" if unit == "rows/s" else f"{target:g}"
        print(f"  {label}: {shown} {unit} (target {op} {goal}): {'met' if met else 'MISSED'}")
    if "max_diff_2^16" in headline:
        ok = headline["max_diff_2^16"] <= 1e-10
        print(
            f"  identical point estimates at 2^16: max |diff| {headline['max_diff_2^16']:.1e}"
            f": {'met' if ok else 'MISSED'}"
        )
    results.write(args.csv)
    print(f"\nwritten: {args.csv}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
