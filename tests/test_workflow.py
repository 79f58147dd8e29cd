"""A tiny real run of the whole workflow, in a temporary directory."""

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from .conftest import LIN11_BOUNDS, LIN11_COEF

REPO = Path(__file__).resolve().parents[1]
TINY = {
    "model": {"epochs": 5, "patience": 5},
    "sobol": {"base_samples": 256, "resamples": 20},
    "morris": {"trajectories": 10, "resamples": 50},
    "local": {
        "operating_points": [
            {"name": "typical", "values": {}},
            {"name": "strong", "values": {"alcohol": 13.0}},
        ]
    },
}


def snakemake_command(workdir: Path, *args: str) -> tuple[list[str], dict[str, str]]:
    """The command line and environment of a snakemake run of this workflow in ``workdir``."""
    bindir = str(Path(sys.executable).parent)
    # the environment's bin folder is not on PATH, as for a user who did not activate it: the
    # rules must find the sensiflow command beside snakemake's Python
    env = {"PATH": "/usr/bin:/bin", "HOME": str(workdir), "TF_CPP_MIN_LOG_LEVEL": "2"}
    command = [
        f"{bindir}/snakemake",
        "--snakefile",
        str(REPO / "Snakefile"),
        "--directory",
        str(workdir),
        "--cores",
        "2",
        *args,
    ]
    return command, env


def snakemake(workdir: Path, *args: str) -> subprocess.CompletedProcess:
    command, env = snakemake_command(workdir, *args)
    return subprocess.run(command, capture_output=True, text=True, env=env, timeout=900)


@pytest.mark.workflow
def test_every_final_file_is_produced(tiny_run):
    r = tiny_run / "results"
    for name in ("sobol", "morris", "dgsm", "local", "comparison", "rank_correlations", "flags"):
        assert (r / "seed42" / "tables" / f"{name}.csv").stat().st_size > 0
    for name in ("training_curve", "sobol", "s2", "morris", "gradients", "ranks"):
        assert (r / "seed42" / "plots" / f"{name}.png").stat().st_size > 1000
    fit = json.loads((r / "seed42" / "fit.json").read_text())
    assert -1 < fit["test"]["r2"] <= 1 and fit["test"]["rows"] > 300
    sobol = pd.read_csv(r / "seed42" / "tables" / "sobol.csv")
    assert len(sobol) == 11 + 11 + 55
    local = pd.read_csv(r / "seed42" / "tables" / "local.csv")
    assert {"data rows", "design base points", "point: typical", "point: strong"} <= set(
        local["source"]
    )
    comparison = pd.read_csv(r / "seed42" / "tables" / "comparison.csv")
    assert set(comparison["measure"]) == {
        "mean_abs_grad",
        "rms_grad",
        "S1",
        "ST",
        "mu_star",
        "dgsm_bound",
    }


@pytest.mark.workflow
def test_nothing_to_do_after_success_and_report(tiny_run):
    for _ in range(2):
        dry = snakemake(tiny_run, "-n")
        assert dry.returncode == 0
        assert "Nothing to be done" in dry.stdout + dry.stderr
    report = snakemake(tiny_run, "--report", "results/report.html")
    assert report.returncode == 0, report.stderr[-2000:]
    assert (tiny_run / "results" / "report.html").stat().st_size > 10_000


@pytest.mark.workflow
def test_bad_config_stops_the_workflow_with_one_clear_line(tmp_path):
    (tmp_path / "config.yaml").write_text(yaml.safe_dump({"sobol": {"base_samples": 1000}}))
    proc = snakemake(tmp_path, "-n")
    assert proc.returncode != 0
    message = "config.yaml: sobol.base_samples: 1000 is not a power of two (nearest: 1024)"
    assert message in proc.stdout + proc.stderr
    assert not (tmp_path / "results").exists()


LIN11_RUN = {
    "function": {"name": "linear", "coefficients": LIN11_COEF, "bounds": LIN11_BOUNDS},
    "data": {"source": "function", "rows": 400},
    "model": {"source": "function"},
    "sobol": {"base_samples": 1024, "resamples": 20},
    "morris": {"trajectories": 10, "resamples": 50},
    "local": {"operating_points": [{"name": "corner", "values": {"x1": 0.0, "x2": 2.0}}]},
    "evaluation": {"dtype": "float64"},
}


@pytest.mark.workflow
def test_workflow_recovers_the_exact_answers_of_a_linear_function(tmp_path, lin11):
    (tmp_path / "config.yaml").write_text(yaml.safe_dump(LIN11_RUN))
    proc = snakemake(tmp_path)
    assert proc.returncode == 0, proc.stderr[-3000:]
    tables = tmp_path / "results" / "function" / "tables"
    exact = lin11.indices()
    coef = np.array(LIN11_RUN["function"]["coefficients"])
    width = np.diff(LIN11_RUN["function"]["bounds"], axis=1).ravel()

    sobol = pd.read_csv(tables / "sobol.csv")
    st = sobol[sobol["index"] == "ST"]["estimate"].to_numpy()
    np.testing.assert_allclose(st, exact["ST"], atol=0.02)
    morris = pd.read_csv(tables / "morris.csv")
    np.testing.assert_allclose(morris["mu"], coef * width, atol=1e-9)
    np.testing.assert_allclose(morris["sigma"], 0, atol=1e-9)
    dgsm = pd.read_csv(tables / "dgsm.csv")
    np.testing.assert_allclose(dgsm["nu"], coef**2, atol=1e-9)
    assert dgsm["bound_holds"].all()
    local = pd.read_csv(tables / "local.csv")
    orig = local[local["units"].str.startswith("original")]
    for source in ("data rows", "design base points", "point: corner"):
        stat = "gradient" if source.startswith("point") else "mean"
        values = orig[(orig["source"] == source) & (orig["statistic"] == stat)]["value"]
        np.testing.assert_allclose(values, coef, atol=1e-9)
    sd = orig[(orig["source"] == "data rows") & (orig["statistic"] == "sd")]["value"]
    np.testing.assert_allclose(sd, 0, atol=1e-9)
    comparison = pd.read_csv(tables / "comparison.csv")
    st_rank = comparison[comparison["measure"] == "ST"].set_index("input")["rank"]
    assert st_rank["x2"] == 1  # the largest share of variance: c = -2 over a width of 2
    fit = json.loads((tmp_path / "results" / "function" / "fit.json").read_text())
    assert fit["test"]["r2"] == pytest.approx(1.0)
