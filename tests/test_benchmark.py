"""The speed benchmark runs end to end at a tiny size and its checks hold (no timing asserts:
speed is what the benchmark prints, not what the suite tests)."""

import importlib.util
from pathlib import Path

import pandas as pd

SCRIPT = Path(__file__).parents[1] / "benchmarks" / "bench_sobol.py"


def test_benchmark_compares_both_paths_on_the_same_design(tf, tmp_path, monkeypatch):
    monkeypatch.setenv("OPENBLAS_NUM_THREADS", "1")
    spec = importlib.util.spec_from_file_location("bench_sobol", SCRIPT)
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    out = tmp_path / "bench.csv"
    bench.main(
        [
            "--sizes",
            "6",
            "--default-batch-max",
            "6",
            "--repeats",
            "1",
            "--budget",
            "1",
            "--csv",
            str(out),
        ]
    )
    rows = pd.read_csv(out)
    checks = rows[rows["path"] == "check"].pivot_table(
        index="second_order", columns="measure", values="value"
    )
    assert sorted(checks.index) == [False, True]
    assert (checks["design_identical"] == 1).all()
    # the engine on the usual path's outputs gives SALib's point estimates
    assert (checks["max_abs_diff_same_outputs"] < 1e-10).all()
    # the two evaluations of the float32 network differ in rounding only
    assert (checks["max_abs_diff_own_outputs"] < 1e-4).all()
    assert set(rows["path"]) >= {"sensiflow", "check"}
    assert sorted(rows.loc[rows["path"] == "check", "rows"].unique()) == [64 * 13, 64 * 24]
