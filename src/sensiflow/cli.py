"""Command-line interface: one subcommand per workflow step, each reading files and writing
files (atomically), so that Snakemake rules only wire paths together.

Every step takes ``--settings``: a JSON object with the config sections it needs (defaults fill
the rest). A bad input ends the step with one line on stderr, ``sensiflow <step>: error:
<file or field>: <what is wrong>``, exit status 2, and no output file written.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sensiflow import __version__
from sensiflow.config import check_files, read_config, validate
from sensiflow.errors import SensiflowError
from sensiflow.io import read_json, write_csv, write_json, write_npy, write_npz, write_with

log = logging.getLogger("sensiflow")


# --------------------------------------------------------------------------- helpers


def _settings(args: argparse.Namespace) -> dict[str, Any]:
    try:
        raw = json.loads(args.settings)
    except json.JSONDecodeError as exc:
        raise SensiflowError("--settings", f"not valid JSON ({exc.msg})") from None
    return validate(raw, source="config")


def _read_json(path: str | Path, what: str) -> Any:
    try:
        return read_json(path)
    except FileNotFoundError:
        raise SensiflowError(str(path), f"{what} not found") from None
    except json.JSONDecodeError as exc:
        raise SensiflowError(str(path), f"{what} is not valid JSON ({exc.msg})") from None


def _read_csv(path: str | Path) -> pd.DataFrame:
    try:
        return pd.read_csv(path)
    except FileNotFoundError:
        raise SensiflowError(str(path), "file not found") from None
    except (pd.errors.EmptyDataError, pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise SensiflowError(str(path), f"not a readable table ({_first_line(exc)})") from None


def _load_arrays(path: str | Path) -> Any:
    """An ``.npy`` array or ``.npz`` archive written by an earlier step."""
    try:
        return np.load(path, allow_pickle=False)
    except FileNotFoundError:
        raise SensiflowError(str(path), "file not found") from None
    except (ValueError, OSError, EOFError) as exc:
        raise SensiflowError(
            str(path),
            f"not a NumPy file of this workflow ({_first_line(exc)}); "
            "rerun the step that writes it",
        ) from None


def _first_line(exc: BaseException) -> str:
    return str(exc).strip().splitlines()[0][:160] if str(exc).strip() else type(exc).__name__


def _data_rows(train_path: str, test_path: str, inputs: list[str]) -> np.ndarray:
    frames = [_read_csv(p) for p in (train_path, test_path)]
    return pd.concat(frames, ignore_index=True)[inputs].to_numpy(float)


# --------------------------------------------------------------------------- steps


def cmd_check_config(args: argparse.Namespace) -> None:
    """Validate a config file, and that the data and model files it names exist."""
    check_files(read_config(args.config), source=args.config)


def cmd_data(args: argparse.Namespace) -> None:
    """Load (or generate) the table, check it, split it, summarise it."""
    from sensiflow import data
    from sensiflow.functions import make_function

    cfg = _settings(args)
    d = cfg["data"]
    if d["source"] == "function":
        table = data.generate_function_table(
            make_function(cfg["function"]), rows=d["rows"], noise_sd=d["noise_sd"], seed=d["seed"]
        )
    elif d["path"] is None:
        table = data.load_bundled_wine(target=d["target"] or "quality", inputs=d["inputs"])
    else:
        table = data.load_table(
            d["path"],
            sep=d["sep"],
            target=d["target"],
            inputs=d["inputs"],
            drop_non_numeric=d["drop_non_numeric"],
            drop_missing_rows=d["drop_missing_rows"],
        )
    train, test = data.split_train_test(table, test_fraction=d["test_fraction"], seed=d["seed"])
    summary = data.summarise(table, train, test)
    if d["source"] == "table" and d["path"] is None:
        summary["sha256"] = data.WINE_SHA256
    write_csv(args.train, train)
    write_csv(args.test, test)
    write_json(args.summary, summary)


def cmd_space(args: argparse.Namespace) -> None:
    """Derive the input space, resolve the operating points, measure data coverage."""
    from sensiflow.functions import make_function
    from sensiflow.space import TAIL_WARNING, coverage, derive_problem

    cfg = _settings(args)
    summary = _read_json(args.summary, "data summary")
    train = _read_csv(args.train)
    inputs = summary["inputs"]
    function = make_function(cfg["function"]) if cfg["function"] else None
    if function is not None and function.n_inputs != len(inputs):
        raise SensiflowError(
            "config",
            f"function: {function.name} takes {function.n_inputs} "
            f"inputs but the data have {len(inputs)}",
        )
    problem = derive_problem(
        train,
        inputs,
        method=cfg["space"]["method"],
        quantiles=tuple(cfg["space"]["quantiles"]),
        overrides=cfg["space"]["inputs"],
        function=function,
    )
    points = _operating_points(cfg["local"]["operating_points"], inputs, summary["statistics"])
    cover = coverage(problem, train, summary["strong_correlations"])
    sparse = {k: v for k, v in cover["fraction_in_training_tails"].items() if v > TAIL_WARNING}
    if sparse:
        log.warning(
            "the design puts many points where the training data are sparse (beyond their 1st "
            "or 99th percentile): %s; global indices there describe the network's "
            "extrapolation (space.method: quantiles narrows the space)",
            ", ".join(f"{k} {100 * v:.0f}%" for k, v in sparse.items()),
        )
    for pair in cover["correlated_pairs"]:
        log.warning(
            "%.0f%% of independent design points lie off the training relation of %s "
            "and %s; local gradients at the data rows are the trustworthy view there",
            100 * pair["fraction_off_training_relation"],
            *pair["inputs"],
        )
    write_json(args.problem, problem)
    write_json(args.points, {"inputs": inputs, "points": points})
    write_json(args.coverage, cover)


def _operating_points(
    points: list[dict[str, Any]], inputs: list[str], statistics: dict[str, dict[str, float]]
) -> list[dict[str, Any]]:
    """Every configured point with a value for every input (the training median where none
    is given), in input order."""
    resolved = []
    for i, point in enumerate(points):
        unknown = sorted(set(point["values"]) - set(inputs))
        if unknown:
            raise SensiflowError(
                "config",
                f"local.operating_points[{i}].values.{unknown[0]}: "
                f"not an input (inputs: {', '.join(inputs)})",
            )
        values = {n: point["values"].get(n, statistics[n]["median"]) for n in inputs}
        resolved.append({"name": point["name"], "values": values})
    return resolved


def cmd_designs(args: argparse.Namespace) -> None:
    """Write the Sobol' design spec and the Morris design; check both are finite."""
    from sensiflow.designs import design_summary, morris_design, sobol_spec
    from sensiflow.space import check_problem

    cfg = _settings(args)
    problem = _read_json(args.problem, "input space")
    check_problem(problem, args.problem)
    s, m = cfg["sobol"], cfg["morris"]
    spec = sobol_spec(
        problem,
        base_samples=s["base_samples"],
        second_order=s["second_order"],
        scramble=s["scramble"],
        seed=s["seed"],
        chunk_rows=s["chunk_rows"],
    )
    unit, x = morris_design(
        problem, trajectories=m["trajectories"], levels=m["levels"], seed=m["seed"]
    )
    spec_morris = {
        "method": "morris",
        "trajectories": m["trajectories"],
        "levels": m["levels"],
        "seed": m["seed"],
        "rows": len(x),
    }
    summary = pd.DataFrame(design_summary(spec, problem, x))
    write_json(args.sobol, spec)
    write_npz(args.morris, unit=unit, x=x, spec=np.array(json.dumps(spec_morris)))
    write_csv(args.design_summary, summary)


def cmd_model(args: argparse.Namespace) -> None:
    """Train the network (or take the given one), save it, and report test-set fit."""
    from sensiflow.evaluate import (
        check_outputs,
        check_representable,
        configure_tensorflow,
        make_evaluator,
    )
    from sensiflow.model import fit_metrics, load_keras, model_callable, train_network

    cfg = _settings(args)
    m = cfg["model"]
    summary = _read_json(args.summary, "data summary")
    inputs, target = summary["inputs"], summary["target"]
    train, test = _read_csv(args.train), _read_csv(args.test)
    for name, rows in (("training", train), ("test", test)):
        check_representable(
            rows[inputs + [target]],
            cfg["evaluation"]["dtype"],
            f"{name} rows ({args.train if name == 'training' else args.test})",
        )
    configure_tensorflow()
    out_dir = Path(args.card).parent
    card = {
        "id": args.model_id,
        "source": m["source"],
        "inputs": inputs,
        "target": target,
        "input_scaling": m["input_scaling"],
        "output_scaling": m["output_scaling"],
        "allow_unsafe": m["allow_unsafe"],
        "file": None,
        "function": None,
        "dtype": cfg["evaluation"]["dtype"],
        "sensiflow": __version__,
    }
    if m["input_scaling"] is not None and len(m["input_scaling"]["center"]) != len(inputs):
        raise SensiflowError(
            "config",
            f"model.input_scaling: {len(m['input_scaling']['center'])}"
            f" values for {len(inputs)} inputs",
        )
    history = pd.DataFrame(columns=["epoch", "loss", "val_loss"])
    net = None
    if m["source"] == "train":
        seed = int(args.model_id.removeprefix("seed"))
        card["seed"] = seed
        net, history = train_network(
            train, inputs, target, m, seed=seed, dtype=cfg["evaluation"]["dtype"]
        )
    elif m["source"] == "keras":
        net = load_keras(m["path"], allow_unsafe=m["allow_unsafe"], n_inputs=len(inputs))
    elif m["source"] == "matlab":
        from sensiflow.matlab import load_matlab_network

        net = load_matlab_network(m["path"], n_inputs=len(inputs), dtype=cfg["evaluation"]["dtype"])
    else:
        card["function"] = cfg["function"]
    if net is not None:
        if not args.keras:
            raise SensiflowError("--keras", f"model source {m['source']} needs a .keras output")
        card["file"] = Path(args.keras).name
    fn, dtype = model_callable(card, out_dir, net=net)
    if dtype != cfg["evaluation"]["dtype"]:
        log.warning(
            "the %s model computes in %s; evaluation.dtype %s does not apply to it",
            m["source"],
            dtype,
            cfg["evaluation"]["dtype"],
        )
    card["dtype"] = dtype
    evaluator = make_evaluator(
        fn, len(inputs), batch_size=max(len(test), len(train)), dtype=dtype, jit_compile=False
    )
    predictions = {}
    for name, rows in (("test", test), ("training", train)):
        x = rows[inputs].to_numpy(float)
        predictions[name] = evaluator.value(x)
        check_outputs(
            predictions[name], lambda i, x=x: x[i], inputs, f"model output at the {name} rows"
        )
    fit = {
        "test": fit_metrics(test[target], predictions["test"]),
        "train": fit_metrics(train[target], predictions["training"]),
        "epochs": len(history),
        "target": target,
        "units": "original units of the target",
    }
    log.info("%s: test R2 %.3f, RMSE %.4g", args.model_id, fit["test"]["r2"], fit["test"]["rmse"])
    if net is not None:
        write_with(args.keras, net.save)
    write_csv(args.history, history)
    write_json(args.fit, fit)
    write_json(args.card, card)


def cmd_evaluate(args: argparse.Namespace) -> None:
    """Evaluate the model on both designs and differentiate it at the data rows, the design's
    base points and the operating points."""
    from sensiflow.evaluate import (
        check_outputs,
        check_representable,
        check_resolution,
        configure_tensorflow,
        evaluate_sobol,
        make_evaluator,
        sobol_evaluator,
    )
    from sensiflow.model import model_callable

    cfg = _settings(args)
    card = _read_json(args.card, "model card")
    problem = _read_json(args.problem, "input space")
    spec = _read_json(args.sobol, "Sobol' design spec")
    names = problem["names"]
    if card["inputs"] != names:
        raise SensiflowError(
            args.card, f"model inputs {card['inputs']} differ from the input space's {names}"
        )
    device = configure_tensorflow()
    fn, dtype = model_callable(card, Path(args.card).parent)
    d = len(names)
    started = time.perf_counter()
    sobol_eval = sobol_evaluator(fn, spec, dtype=dtype)
    y_sobol, moments = evaluate_sobol(sobol_eval, spec, problem)
    sobol_seconds = time.perf_counter() - started
    check_resolution(y_sobol, dtype, "model output on the Sobol' design")
    morris = _load_arrays(args.morris)
    x_data = _data_rows(args.train, args.test, names)
    points = _read_json(args.points, "operating points")["points"]
    x_points = np.array([[p["values"][n] for n in names] for p in points]).reshape(-1, d)
    check_representable(pd.DataFrame(x_points, columns=names), dtype, "local.operating_points")
    # batches no longer than the longest of these row sets: no padding to a huge batch
    longest = max(len(morris["x"]), len(x_data), len(x_points), 1)
    rows_eval = make_evaluator(
        fn, d, batch_size=min(cfg["evaluation"]["batch_size"], longest), dtype=dtype
    )
    y_morris = rows_eval.value(morris["x"])
    check_outputs(y_morris, lambda i: morris["x"][i], names, "model output on the Morris design")
    _, g_data = rows_eval.value_and_gradient(x_data)
    check_outputs(
        g_data.sum(axis=1),
        lambda i: x_data[i],
        names,
        "model gradient at the data rows",
        what="gradient",
    )
    _, g_points = rows_eval.value_and_gradient(x_points)
    check_outputs(
        g_points.sum(axis=1),
        lambda i: x_points[i],
        names,
        "model gradient at the operating points",
        what="gradient",
        label=lambda i: f"point {points[i]['name']!r}",
    )
    if not np.isfinite(moments.total_sq).all():
        raise SensiflowError(
            "model gradient on the Sobol' design",
            "NaN or infinite gradients at the design's base points; no DGSM can be computed",
        )
    meta = {
        "device": device,
        "dtype": dtype,
        "sobol_rows": len(y_sobol),
        "morris_rows": len(y_morris),
        "data_rows": len(x_data),
        "sobol_batch_rows": sobol_eval.batch_size,
        "row_batch": rows_eval.batch_size,
        "traces": {"sobol": sobol_eval.trace_count, "rows": rows_eval.trace_count},
        "sobol_seconds": round(sobol_seconds, 3),
    }
    write_npy(args.sobol_y, y_sobol)
    write_npy(args.morris_y, y_morris)
    write_npz(
        args.gradients,
        data=g_data.astype(float),
        point_names=np.array([p["name"] for p in points], dtype=str),
        points=g_points.astype(float),
        **{f"design_{k}": v for k, v in moments.arrays().items()},
    )
    write_json(args.meta, meta)


def cmd_indices(args: argparse.Namespace) -> None:
    """Sobol', Morris and DGSM indices from the stored outputs and gradients."""
    from sensiflow.dgsm import dgsm_table
    from sensiflow.morris import morris_indices
    from sensiflow.sobol import ADVICE, salib_indices, sobol_indices, sobol_table

    cfg = _settings(args)
    s, m = cfg["sobol"], cfg["morris"]
    problem = _read_json(args.problem, "input space")
    spec = _read_json(args.sobol, "Sobol' design spec")
    y = _load_arrays(args.sobol_y)
    if len(y) != spec["rows"]:
        raise SensiflowError(
            args.sobol_y,
            f"{len(y)} outputs for a design of {spec['rows']} rows; rerun the evaluation",
        )
    if s["estimator"] == "salib":
        result = salib_indices(
            y, spec, problem, resamples=s["resamples"], seed=s["seed"], conf_level=s["conf_level"]
        )
    else:
        result = sobol_indices(
            y, spec, resamples=s["resamples"], seed=s["seed"], conf_level=s["conf_level"]
        )
    if result.constant:
        log.warning("the model output is constant over the design: every index is 0")
    sobol = sobol_table(result, problem["names"], interval=s["interval"], estimator=s["estimator"])
    noisy = sobol["flag"].str.contains(ADVICE, regex=False)
    if noisy.any():
        log.warning(
            "%d Sobol' estimate(s) negative or S1 > ST beyond their intervals (see the flag "
            "column); consider a larger sobol.base_samples than %d",
            int(noisy.sum()),
            spec["base_samples"],
        )
    morris_file = _load_arrays(args.morris)
    morris = morris_indices(
        morris_file["unit"],
        _load_arrays(args.morris_y),
        problem["names"],
        levels=int(json.loads(str(morris_file["spec"]))["levels"]),
        resamples=m["resamples"],
        conf_level=m["conf_level"],
        seed=m["seed"],
    )
    grads = _load_arrays(args.gradients)
    moments = {k.removeprefix("design_"): grads[k] for k in grads.files if k.startswith("design_")}
    dgsm = dgsm_table(moments, result.variance, problem, sobol)
    write_csv(args.sobol_table, sobol)
    write_csv(args.morris_table, morris)
    write_csv(args.dgsm_table, dgsm)


def cmd_local(args: argparse.Namespace) -> None:
    """Statistics of the gradients, in original and standardised units."""
    from sensiflow.local import local_table, standardising_factors

    summary = _read_json(args.summary, "data summary")
    grads = _load_arrays(args.gradients)
    names = summary["inputs"]
    factors = standardising_factors(names, summary["statistics"], summary["target"])
    moments = {k.removeprefix("design_"): grads[k] for k in grads.files if k.startswith("design_")}
    table = local_table(
        names,
        factors,
        data_gradients=grads["data"],
        design_moments=moments,
        point_names=list(grads["point_names"]),
        point_gradients=grads["points"],
    )
    write_csv(args.out, table)


def cmd_compare(args: argparse.Namespace) -> None:
    """Local versus global: measures with ranks, rank correlations, disagreement flags."""
    from sensiflow.compare import disagreement_flags, measures_table, rank_correlations

    cfg = _settings(args)
    sobol = _read_csv(args.sobol_table)
    table = measures_table(
        _read_csv(args.local), sobol, _read_csv(args.morris_table), _read_csv(args.dgsm_table)
    )
    write_csv(args.comparison, table)
    write_csv(args.correlations, rank_correlations(table))
    write_csv(args.flags, disagreement_flags(table, sobol, rank_gap=cfg["compare"]["rank_gap"]))


def cmd_plots(args: argparse.Namespace) -> None:
    """Every figure of one model."""
    from sensiflow import plots
    from sensiflow.local import standardising_factors

    title = args.title
    summary = _read_json(args.summary, "data summary")
    sobol = _read_csv(args.sobol_table)
    plots.training_curve(_read_csv(args.history), args.training_curve, title=title)
    plots.sobol_bars(sobol, args.sobol_plot, title=title)
    plots.s2_heatmap(sobol, args.s2_plot, title=title)
    plots.morris_plot(_read_csv(args.morris_table), args.morris_plot, title=title)
    names = summary["inputs"]
    grads = _load_arrays(args.gradients)
    factors = standardising_factors(names, summary["statistics"], summary["target"])
    data = grads["data"] if len(grads["data"]) else grads["design_sample"]
    source = "data rows" if len(grads["data"]) else "design base points"
    plots.gradient_distributions(
        data, names, factors, args.gradient_plot, title=title, source=source
    )
    plots.rank_grid(_read_csv(args.comparison), args.rank_plot, title=title)


def cmd_ensemble(args: argparse.Namespace) -> None:
    """Summaries across training seeds: means, combined intervals, rank stability, fit."""
    from sensiflow import ensemble, plots

    cfg = _settings(args)
    files = {
        "--comparison": args.comparison,
        "--sobol-table": args.sobol_table,
        "--morris-table": args.morris_table,
        "--local": args.local,
        "--fit": args.fit,
    }
    if len(args.models) < 2:
        raise SensiflowError("--models", f"an ensemble needs two or more models, got {args.models}")
    for option, paths in files.items():
        if len(paths) != len(args.models):
            raise SensiflowError(
                option, f"{len(paths)} files for {len(args.models)} models ({args.models})"
            )
    comparisons = {path: _read_csv(path) for path in args.comparison}
    ensemble.check_same_inputs(comparisons)
    values = pd.concat(
        [
            ensemble.seed_values(
                model,
                comparison,
                _read_csv(sobol),
                _read_csv(morris),
                _read_csv(local),
                sobol_conf_level=cfg["sobol"]["conf_level"],
                morris_conf_level=cfg["morris"]["conf_level"],
            )
            for model, comparison, sobol, morris, local in zip(
                args.models,
                comparisons.values(),
                args.sobol_table,
                args.morris_table,
                args.local,
                strict=True,
            )
        ],
        ignore_index=True,
    )
    summary = ensemble.combine_seeds(values, conf_level=cfg["sobol"]["conf_level"])
    ranks = ensemble.rank_stability(values)
    top = ensemble.top_stability(values)
    fits = {m: _read_json(p, "fit summary") for m, p in zip(args.models, args.fit, strict=True)}
    for row in top[top["measure"].isin(["ST", "mean_abs_grad"])].itertuples():
        log.info(
            "top 3 by %s: %s; same set in %.0f%% of %d seeds, same order in %.0f%%",
            row.measure,
            row.top,
            100 * row.set_stability,
            row.seeds,
            100 * row.order_stability,
        )
    write_csv(args.values, values)
    write_csv(args.ensemble_summary, summary)
    write_csv(args.ranks, ranks)
    write_csv(args.top, top)
    write_csv(args.fit_table, ensemble.fit_table(fits))
    plots.ensemble_values(values, summary, args.values_plot)
    plots.rank_stability_grid(ranks, args.stability_plot)


# --------------------------------------------------------------------------- parser


STEPS: dict[str, tuple[Any, list[str]]] = {
    "check-config": (cmd_check_config, []),
    "data": (cmd_data, ["train", "test", "summary"]),
    "space": (cmd_space, ["summary", "train", "problem", "points", "coverage"]),
    "designs": (cmd_designs, ["problem", "sobol", "morris", "design-summary"]),
    "model": (
        cmd_model,
        ["summary", "train", "test", "card", "keras?", "fit", "history", "model-id"],
    ),
    "evaluate": (
        cmd_evaluate,
        [
            "card",
            "problem",
            "sobol",
            "morris",
            "train",
            "test",
            "points",
            "sobol-y",
            "morris-y",
            "gradients",
            "meta",
        ],
    ),
    "indices": (
        cmd_indices,
        [
            "problem",
            "sobol",
            "sobol-y",
            "morris",
            "morris-y",
            "gradients",
            "sobol-table",
            "morris-table",
            "dgsm-table",
        ],
    ),
    "local": (cmd_local, ["summary", "gradients", "out"]),
    "compare": (
        cmd_compare,
        [
            "local",
            "sobol-table",
            "morris-table",
            "dgsm-table",
            "comparison",
            "correlations",
            "flags",
        ],
    ),
    "plots": (
        cmd_plots,
        [
            "summary",
            "history",
            "sobol-table",
            "morris-table",
            "gradients",
            "comparison",
            "training-curve",
            "sobol-plot",
            "s2-plot",
            "morris-plot",
            "gradient-plot",
            "rank-plot",
            "title",
        ],
    ),
    "ensemble": (
        cmd_ensemble,
        [
            "models+",
            "comparison+",
            "sobol-table+",
            "morris-table+",
            "local+",
            "fit+",
            "values",
            "ensemble-summary",
            "ranks",
            "top",
            "fit-table",
            "values-plot",
            "stability-plot",
        ],
    ),
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="sensiflow", description=" ".join(__doc__.split("\n\n")[0].split())
    )
    parser.add_argument("--version", action="version", version=f"sensiflow {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    for name, (func, options) in STEPS.items():
        summary = " ".join((func.__doc__ or "").split("\n\n")[0].split())
        step = sub.add_parser(name, help=summary, description=summary)
        step.set_defaults(func=func)
        if name == "check-config":
            step.add_argument("config", help="config YAML file")
        else:
            step.add_argument(
                "--settings",
                default="{}",
                help="JSON object with the config sections this step needs",
            )
        step.add_argument("--log", help="also write log messages to this file")
        for option in options:  # "name?": optional; "name+": one or more values
            name = option.rstrip("?+")
            step.add_argument(
                f"--{name}",
                required=not option.endswith("?"),
                nargs="+" if option.endswith("+") else None,
            )
    return parser


class _NotUserError(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return not getattr(record, "user_error", False)


def _setup_logging(log_file: str | None) -> None:
    console = logging.StreamHandler(sys.stderr)
    console.addFilter(_NotUserError())
    handlers: list[logging.Handler] = [console]
    if log_file:
        Path(log_file).parent.mkdir(parents=True, exist_ok=True)
        handlers.append(logging.FileHandler(log_file, mode="w"))
    logging.basicConfig(
        level=logging.INFO,
        handlers=handlers,
        force=True,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )


def _user_message(exc: BaseException) -> str:
    """One line for a user's problem: a bad input, a file the system refuses, too little memory."""
    if isinstance(exc, OSError):
        return f"{exc.filename or 'a file'}: {exc.strerror or exc}"
    if isinstance(exc, MemoryError):
        return (
            f"not enough memory ({_first_line(exc)}); use a smaller size (sobol.base_samples, "
            "sobol.chunk_rows, evaluation.batch_size)"
        )
    return str(exc)


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``sensiflow`` command."""
    args = build_parser().parse_args(argv)
    # TensorFlow's C++ log lines (a missing CUDA driver on a CPU machine, for one) are noise
    # here; errors that matter reach Python as exceptions. An explicit setting wins.
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    _setup_logging(getattr(args, "log", None))
    if os.environ.get("SLURM_JOB_ID"):
        log.info("%s: running in Slurm job %s", args.command, os.environ["SLURM_JOB_ID"])
    started = time.perf_counter()
    try:
        try:
            args.func(args)
        except FileNotFoundError as exc:  # an input file of the step is missing
            raise SensiflowError(str(exc.filename), "file not found") from None
    except (SensiflowError, OSError, MemoryError) as exc:
        line = f"sensiflow {args.command}: error: {_user_message(exc)}"
        log.error("%s", line, extra={"user_error": True})  # to the log file only
        print(line, file=sys.stderr)
        return 2
    log.info("%s done in %.1f s", args.command, time.perf_counter() - started)
    return 0


if __name__ == "__main__":
    sys.exit(main())
