"""The speed benchmark runs end to end on a tiny size and its checks hold (no timing asserts:
speed is what the benchmark prints, not what the suite tests)."""

import importlib.util
from pathlib import Path

import pandas as pd

SCRIPT = Path(__file__).parents[1] / "benchmarks" / "speed.py"


def test_speed_benchmark_compares_both_paths_on_the_same_design(tf, tmp_path, monkeypatch):
    monkeypatch.setenv("OPENBLAS_NUM_THREADS", "1")
    spec = importlib.util.spec_from_file_location("speed_benchmark", SCRIPT)
    speed = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(speed)
    speed.main(
        [
            "--sizes",
            "6",
            "--skip-default-batch",
            "--repeats",
            "1",
            "--resamples",
            "10",
            "--throughput-rows",
            "1000",
            "--out",
            str(tmp_path),
        ]
    )
    summary = pd.read_csv(tmp_path / "summary.csv")
    assert summary["base_samples"].tolist() == [64, 64]
    assert summary["second_order"].tolist() == [True, False]
    assert summary["evaluations"].tolist() == [64 * 24, 64 * 13]
    assert summary["design_bit_identical"].all()
    # the engine on SALib's path's outputs gives SALib's point estimates
    assert (summary["engine_vs_salib_same_outputs"] < 1e-10).all()
    # the two evaluations of the float32 network differ in rounding only
    assert (summary["outputs_max_abs_diff"] < 1e-4).all()
    assert (summary["ratio_batch_65536"] > 0).all()
    stages = pd.read_csv(tmp_path / "stages.csv")
    assert {"usual", "sensiflow"} == set(stages["path"])
