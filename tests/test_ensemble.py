"""Summaries across training seeds, against values worked out by hand."""

from __future__ import annotations

import copy
import json

import numpy as np
import pandas as pd
import pytest
import yaml

from sensiflow import cli
from sensiflow.compare import measures_table
from sensiflow.ensemble import (
    check_same_inputs,
    combine_seeds,
    fit_table,
    normal_quantile,
    rank_stability,
    seed_values,
    top_stability,
)
from sensiflow.errors import SensiflowError
from sensiflow.local import local_table
from tests.test_workflow import TINY, snakemake

Z95 = 1.959963984540054
NAMES = ["a", "b", "c", "d"]


def values_frame(per_seed: dict[str, dict[str, float]], se=None, measure="ST") -> pd.DataFrame:
    """Rows as seed_values returns them, for one measure."""
    rows = []
    for model, vals in per_seed.items():
        for name, value in vals.items():
            rows.append(
                {
                    "model": model,
                    "measure": measure,
                    "input": name,
                    "value": value,
                    "rank": np.nan,
                    "sampling_se": np.nan if se is None else se,
                }
            )
    return pd.DataFrame(rows)


def test_normal_quantile():
    assert normal_quantile(0.95) == pytest.approx(Z95, abs=1e-12)
    assert normal_quantile(0.9) == pytest.approx(1.6448536269514722, abs=1e-12)


def test_combined_interval_when_seeds_spread_more_than_sampling():
    # estimates 0.3 and 0.5, each with standard error 0.05:
    # S^2 = 0.02, W = 0.0025, B = 0.0175, T = W + B = 0.02
    values = values_frame({"seed1": {"a": 0.3}, "seed2": {"a": 0.5}}, se=0.05)
    row = combine_seeds(values, conf_level=0.95).iloc[0]
    assert row["seeds"] == 2
    assert row["mean"] == pytest.approx(0.4)
    assert row["sd_seeds"] == pytest.approx(np.sqrt(0.02))
    assert row["sd_within"] == pytest.approx(0.05)
    assert row["sd_between"] == pytest.approx(np.sqrt(0.0175))
    assert row["sd_total"] == pytest.approx(np.sqrt(0.02))
    half_mean = Z95 * np.sqrt(0.02 / 2)  # 0.195996
    assert row["ci_low"] == pytest.approx(0.4 - half_mean)
    assert row["ci_high"] == pytest.approx(0.4 + half_mean)
    half_one = Z95 * np.sqrt(0.02)  # 0.277181
    assert row["one_low"] == pytest.approx(0.4 - half_one)
    assert row["one_high"] == pytest.approx(0.4 + half_one)
    assert (row["min"], row["max"]) == (0.3, 0.5)


def test_combined_interval_when_sampling_noise_explains_the_spread():
    # estimates 0.40 and 0.41 with standard error 0.05: S^2 = 5e-5 < W = 0.0025, so no
    # between-seed variance is left and the total is the sampling variance alone
    values = values_frame({"seed1": {"a": 0.40}, "seed2": {"a": 0.41}}, se=0.05)
    row = combine_seeds(values, conf_level=0.95).iloc[0]
    assert row["sd_between"] == 0.0
    assert row["sd_total"] == pytest.approx(0.05)
    assert row["ci_high"] - row["ci_low"] == pytest.approx(2 * Z95 * 0.05 / np.sqrt(2))


def test_measure_without_sampling_error_uses_the_seed_spread_alone():
    values = values_frame({"s1": {"a": 1.0}, "s2": {"a": 2.0}, "s3": {"a": 6.0}}, se=None)
    row = combine_seeds(values, conf_level=0.95).iloc[0]
    assert np.isnan(row["sd_within"])
    assert row["sd_total"] == pytest.approx(np.sqrt(7.0))  # var(1, 2, 6) = 7
    assert row["sd_between"] == pytest.approx(np.sqrt(7.0))
    assert row["ci_low"] == pytest.approx(3.0 - Z95 * np.sqrt(7.0 / 3))


SEEDS = {
    "s1": {"a": 4.0, "b": 3.0, "c": 2.0, "d": 1.0},
    "s2": {"a": 4.0, "b": 3.0, "c": 1.0, "d": 2.0},
    "s3": {"a": 3.0, "b": 4.0, "c": 2.0, "d": 1.0},
}


def test_rank_stability_by_hand():
    # means a 11/3, b 10/3, c 5/3, d 4/3: reference ranks 1, 2, 3, 4
    # seed ranks a (1, 1, 2), b (2, 2, 1), c (3, 4, 3), d (4, 3, 4)
    ranks = rank_stability(values_frame(SEEDS)).set_index("input")
    assert list(ranks["rank"]) == [1, 2, 3, 4]
    assert ranks["rank_stability"].tolist() == pytest.approx([2 / 3] * 4)
    assert ranks["rank_min"].tolist() == [1, 1, 3, 3]
    assert ranks["rank_max"].tolist() == [2, 2, 4, 4]
    assert ranks["top_frequency"].tolist() == pytest.approx([1, 1, 2 / 3, 1 / 3])
    assert ranks["modal_rank"].tolist() == [1, 2, 3, 4]
    assert ranks["modal_frequency"].tolist() == pytest.approx([2 / 3] * 4)
    summary = combine_seeds(values_frame(SEEDS), conf_level=0.95).set_index("input")
    assert list(summary["rank"]) == [1, 2, 3, 4]


def test_top3_stability_by_hand():
    # seed top 3: [a, b, c], [a, b, d], [b, a, c]; ensemble [a, b, c]
    top = top_stability(values_frame(SEEDS)).iloc[0]
    assert top["top"] == "a; b; c"
    assert top["seeds"] == 3
    assert top["set_stability"] == pytest.approx(2 / 3)
    assert top["order_stability"] == pytest.approx(1 / 3)
    # Spearman rho of the seed pairs: 0.8, 0.8, 0.6
    assert top["mean_spearman"] == pytest.approx((0.8 + 0.8 + 0.6) / 3)


def test_modal_rank_when_no_seed_has_the_rank_of_the_mean():
    # f and g swap 3rd and 5th place, so both average 3 and tie at rank 3 by the mean, which
    # leaves e 5th by the mean although it is 4th in every seed
    seeds = {
        "s1": {"a": 9, "b": 8, "f": 5, "g": 1, "e": 2.2},
        "s2": {"a": 9, "b": 8, "f": 1, "g": 5, "e": 2.2},
    }
    ranks = rank_stability(values_frame(seeds)).set_index("input")
    assert ranks.loc["e", "rank"] == 5 and ranks.loc["e", "rank_stability"] == 0
    assert ranks.loc["e", "modal_rank"] == 4 and ranks.loc["e", "modal_frequency"] == 1


def test_identical_seeds_are_perfectly_stable():
    same = {"s1": SEEDS["s1"], "s2": SEEDS["s1"]}
    ranks = rank_stability(values_frame(same))
    assert (ranks["rank_stability"] == 1).all()
    top = top_stability(values_frame(same)).iloc[0]
    assert (top["set_stability"], top["order_stability"], top["mean_spearman"]) == (1, 1, 1)
    summary = combine_seeds(values_frame(same), conf_level=0.95)
    assert (summary["sd_total"] == 0).all() and (summary["ci_low"] == summary["mean"]).all()


def seed_tables(st, half_width, mu_star_conf, gradients):
    """The four per-seed tables a real run writes, built with the package's own functions."""
    names = NAMES
    sobol = pd.DataFrame(
        [
            {"index": i, "input": n, "estimate": v, "half_width": h, "ci_low": 0, "ci_high": 1}
            for i in ("S1", "ST")
            for n, v, h in zip(names, st, half_width, strict=True)
        ]
    )
    morris = pd.DataFrame(
        {"input": names, "mu_star": st, "mu_star_conf": mu_star_conf, "sigma": 0.0, "mu": st}
    )
    dgsm = pd.DataFrame({"input": names, "bound": [1.2 * s for s in st]})
    moments = {
        "count": len(gradients),
        "sum": gradients.sum(0),
        "sum_sq": (gradients**2).sum(0),
        "sum_abs": np.abs(gradients).sum(0),
    }
    local = local_table(
        names,
        np.ones(len(names)),
        data_gradients=gradients,
        design_moments=moments,
        point_names=[],
        point_gradients=np.zeros((0, len(names))),
    )
    return measures_table(local, sobol, morris, dgsm), sobol, morris, local


def test_seed_values_standard_errors():
    g = np.array([[1.0, 2, 0, 5], [-1, 2, 0, 5], [3, -2, 1, 5], [-3, 2, 1, 5]])
    comparison, sobol, morris, local = seed_tables(
        [0.5, 0.3, 0.1, 0.05], [Z95 * 0.05] * 4, [Z95 * 0.2] * 4, g
    )
    values = seed_values(
        "seed7", comparison, sobol, morris, local, sobol_conf_level=0.95, morris_conf_level=0.95
    )
    se = values.set_index(["measure", "input"])["sampling_se"]
    assert (values["model"] == "seed7").all()
    assert se["ST", "a"] == pytest.approx(0.05)
    assert se["S1", "c"] == pytest.approx(0.05)
    assert se["mu_star", "b"] == pytest.approx(0.2)
    # |g| of a = 1, 1, 3, 3: sd (ddof 1) sqrt(4/3), se sqrt(4/3) / 2
    expected = np.abs(g).std(axis=0, ddof=1) / 2
    for name, value in zip(NAMES, expected, strict=True):
        assert se["mean_abs_grad", name] == pytest.approx(value)
    assert se["mean_abs_grad", "d"] == 0.0
    assert np.isnan(se["rms_grad", "a"]) and np.isnan(se["dgsm_bound", "a"])
    value = values.set_index(["measure", "input"])["value"]
    assert value["mean_abs_grad", "a"] == pytest.approx(2.0)
    assert value["dgsm_bound", "b"] == pytest.approx(0.36)


def test_different_inputs_across_seeds_are_refused():
    g = np.ones((3, 4))
    comparison = seed_tables([0.4, 0.3, 0.2, 0.1], [0.01] * 4, [0.01] * 4, g)[0]
    other = comparison.replace({"input": {"d": "z"}})
    with pytest.raises(SensiflowError, match=r"^seed2/comparison.csv: measures/inputs differ"):
        check_same_inputs({"seed1/comparison.csv": comparison, "seed2/comparison.csv": other})


def test_fit_table():
    fit = {
        "test": {"r2": 0.4, "rmse": 0.6, "mae": 0.5, "rows": 320},
        "train": {"r2": 0.5, "rmse": 0.55, "mae": 0.45, "rows": 1279},
        "epochs": 120,
    }
    table = fit_table({"seed1": fit, "seed2": fit})
    assert list(table["model"]) == ["seed1", "seed1", "seed2", "seed2"]
    assert list(table["split"]) == ["test", "train"] * 2
    assert table.loc[1, "rows"] == 1279 and table.loc[3, "epochs"] == 120


def write_seed(tmp_path, model, st, gradients):
    comparison, sobol, morris, local = seed_tables(st, [Z95 * 0.01] * 4, [Z95 * 0.1] * 4, gradients)
    d = tmp_path / model
    d.mkdir()
    for name, frame in (
        ("comparison", comparison),
        ("sobol", sobol),
        ("morris", morris),
        ("local", local),
    ):
        frame.to_csv(d / f"{name}.csv", index=False)
    fit = {"test": {"r2": 0.4, "rmse": 0.6, "mae": 0.5, "rows": 3}, "train": {}, "epochs": 9}
    fit["train"] = fit["test"]
    (d / "fit.json").write_text(json.dumps(fit))
    return d


def ensemble_args(tmp_path, models):
    files = {
        opt: [str(tmp_path / m / f"{name}") for m in models]
        for opt, name in (
            ("--comparison", "comparison.csv"),
            ("--sobol-table", "sobol.csv"),
            ("--morris-table", "morris.csv"),
            ("--local", "local.csv"),
            ("--fit", "fit.json"),
        )
    }
    out = tmp_path / "out"
    args = ["ensemble", "--models", *models]
    for opt, paths in files.items():
        args += [opt, *paths]
    for opt in ("values", "ensemble-summary", "ranks", "top", "fit-table"):
        args += [f"--{opt}", str(out / f"{opt}.csv")]
    args += ["--values-plot", str(out / "values.png")]
    args += ["--stability-plot", str(out / "stability.png")]
    return args, out


def test_ensemble_step_writes_every_table_and_plot(tmp_path):
    g = np.array([[1.0, 2, 0, 5], [-1, 2, 0, 5], [3, -2, 1, 5]])
    write_seed(tmp_path, "seed1", [0.5, 0.3, 0.1, 0.05], g)
    write_seed(tmp_path, "seed2", [0.3, 0.5, 0.1, 0.05], g)
    args, out = ensemble_args(tmp_path, ["seed1", "seed2"])
    assert cli.main(args) == 0
    summary = pd.read_csv(out / "ensemble-summary.csv").set_index(["measure", "input"])
    # ST of a: 0.5 and 0.3, se 0.01 each: T = S^2 = 0.02
    assert summary.loc[("ST", "a"), "mean"] == pytest.approx(0.4)
    assert summary.loc[("ST", "a"), "sd_total"] == pytest.approx(np.sqrt(0.02))
    assert summary.loc[("ST", "c"), "sd_between"] == 0.0
    top = pd.read_csv(out / "top.csv").set_index("measure")
    # ST: a and b tie on the mean (0.4): the ensemble's top keeps input order
    assert top.loc["ST", "top"] == "a; b; c"
    assert top.loc["ST", "set_stability"] == 1.0 and top.loc["ST", "order_stability"] == 0.5
    assert len(pd.read_csv(out / "values.csv")) == 2 * 6 * 4
    assert len(pd.read_csv(out / "fit-table.csv")) == 4
    assert len(pd.read_csv(out / "ranks.csv")) == 6 * 4
    for plot in ("values.png", "stability.png"):
        assert (out / plot).stat().st_size > 1000


def test_ensemble_step_refuses_one_model_and_mismatched_files(tmp_path, capsys):
    g = np.ones((3, 4))
    write_seed(tmp_path, "seed1", [0.5, 0.3, 0.1, 0.05], g)
    args, out = ensemble_args(tmp_path, ["seed1"])
    assert cli.main(args) == 2
    assert "sensiflow ensemble: error: --models: an ensemble needs two or more models" in (
        capsys.readouterr().err
    )
    write_seed(tmp_path, "seed2", [0.5, 0.3, 0.1, 0.05], g)
    args, out = ensemble_args(tmp_path, ["seed1", "seed2"])
    i = args.index("--fit")
    del args[i + 2]  # one fit file for two models
    assert cli.main(args) == 2
    assert "error: --fit: 1 files for 2 models" in capsys.readouterr().err
    assert not out.exists()


@pytest.mark.workflow
@pytest.mark.parametrize("seeds, ensemble_jobs", [([42], 0), ([1, 2, 3], 1)])
def test_the_ensemble_step_runs_only_for_several_seeds(tmp_path, seeds, ensemble_jobs):
    config = copy.deepcopy(TINY)
    config["model"]["seeds"] = seeds
    (tmp_path / "config.yaml").write_text(yaml.safe_dump(config))
    dry = snakemake(tmp_path, "-n", "--quiet", "rules")
    assert dry.returncode == 0, dry.stderr[-2000:]
    counts = dict(line.split()[:2] for line in dry.stdout.splitlines() if len(line.split()) == 2)
    assert int(counts.get("ensemble", 0)) == ensemble_jobs
    assert int(counts["model"]) == int(counts["plots"]) == len(seeds)
