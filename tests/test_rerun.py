"""Nothing lost: files appear complete or not at all; a run killed mid-way and rerun with
``--rerun-incomplete`` ends with the tables of an uninterrupted run; two runs from scratch give
byte-identical tables and weights (CPU)."""

import io
import os
import signal
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import numpy as np
import pytest
import yaml

from sensiflow.io import write_with
from tests.test_workflow import TINY, snakemake, snakemake_command

MODEL = "seed42"
# every table of a run, without plots or the report (their bytes depend on matplotlib only)
TABLES = [
    "results/data/train.csv",
    "results/data/test.csv",
    "results/data/data.json",
    "results/space/problem.json",
    "results/space/operating_points.json",
    "results/space/coverage.json",
    "results/designs/sobol.json",
    "results/designs/design_summary.csv",
    f"results/{MODEL}/fit.json",
    f"results/{MODEL}/history.csv",
    f"results/{MODEL}/model.json",
    f"results/{MODEL}/evaluations/sobol_y.npy",
    f"results/{MODEL}/evaluations/morris_y.npy",
    *(
        f"results/{MODEL}/tables/{name}.csv"
        for name in ("sobol", "morris", "dgsm", "local", "comparison", "rank_correlations", "flags")
    ),
]
TARGETS = [t for t in TABLES if "/tables/" in t] + [f"results/{MODEL}/fit.json"]


def weights(workdir: Path) -> dict[str, np.ndarray]:
    """Every array of the saved network (the .keras archive also records when it was saved)."""
    import h5py

    with zipfile.ZipFile(workdir / "results" / MODEL / "model.keras") as archive:
        data = archive.read("model.weights.h5")
    out = {}

    def keep(name, obj):  # returns None, so that visititems goes on
        if isinstance(obj, h5py.Dataset):
            out[name] = obj[()]

    with h5py.File(io.BytesIO(data), "r") as h5:
        h5.visititems(keep)
    return out


def assert_same_tables(a: Path, b: Path) -> None:
    for name in TABLES:
        assert (a / name).read_bytes() == (b / name).read_bytes(), f"{name} differs"
    wa, wb = weights(a), weights(b)
    assert sorted(wa) == sorted(wb) and {"layers/dense/vars/0", "layers/dense_1/vars/0"} <= set(wa)
    for name in wa:
        np.testing.assert_array_equal(wa[name], wb[name], err_msg=name)


def fresh(tmp_path_factory, name: str) -> Path:
    workdir = tmp_path_factory.mktemp(name)
    (workdir / "config.yaml").write_text(yaml.safe_dump(TINY))
    return workdir


# ----------------------------------------------------------------------------- atomic writes

WRITER = """
import sys, time
from sensiflow.io import write_with

def writer(path):
    with open(path, "w") as fh:
        fh.write("half a table")
        fh.flush()
        print("writing", flush=True)
        time.sleep(120)

write_with(sys.argv[1], writer)
"""


def test_a_writer_killed_mid_file_leaves_no_file_under_the_final_name(tmp_path):
    final = tmp_path / "tables" / "sobol.csv"
    proc = subprocess.Popen(
        [sys.executable, "-c", WRITER, str(final)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert proc.stdout.readline().strip() == "writing"
        temporary = [p for p in final.parent.iterdir() if p.name != final.name]
        assert len(temporary) == 1 and temporary[0].read_text() == "half a table"
    finally:
        proc.kill()
        proc.wait()
    assert not final.exists()


def test_a_writer_that_fails_leaves_nothing(tmp_path):
    def failing(path):
        path.write_text("partial")
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError):
        write_with(tmp_path / "out.csv", failing)
    assert list(tmp_path.iterdir()) == []
    write_with(tmp_path / "out.csv", lambda p: p.write_text("complete"))
    assert [p.name for p in tmp_path.iterdir()] == ["out.csv"]
    assert (tmp_path / "out.csv").read_text() == "complete"


# ----------------------------------------------------------------------------- workflow


@pytest.fixture(scope="module")
def killed_and_resumed(tmp_path_factory):
    """A run killed (with every job) as soon as the evaluation starts, then resumed.

    Returns the directory and the modification times, at the kill, of the files the run had
    finished by then.
    """
    workdir = fresh(tmp_path_factory, "killed")
    command, env = snakemake_command(workdir, *TARGETS)
    started = workdir / "results" / "logs" / "evaluate" / f"{MODEL}.log"
    proc = subprocess.Popen(
        command,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=env,
        start_new_session=True,  # its own process group: the kill reaches every job
    )
    deadline = time.monotonic() + 600
    while not started.exists() and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.1)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    assert started.exists(), "the run ended before the evaluation started"
    evaluations = workdir / "results" / MODEL / "evaluations"
    assert not (evaluations / "sobol_y.npy").exists(), "the evaluation finished before the kill"
    done = {
        name: (workdir / name).stat().st_mtime_ns
        for name in ("results/data/train.csv", f"results/{MODEL}/model.keras")
    }
    assert snakemake(workdir, "--unlock").returncode == 0  # the killed run left its lock
    proc = snakemake(workdir, "--rerun-incomplete", *TARGETS)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return workdir, done


@pytest.mark.workflow
def test_killed_run_resumes_to_the_tables_of_an_uninterrupted_run(killed_and_resumed, tiny_run):
    workdir, done = killed_and_resumed
    assert_same_tables(workdir, tiny_run)
    for name, mtime in done.items():  # finished work was kept, not redone
        assert (workdir / name).stat().st_mtime_ns == mtime, name
    assert sorted(p.name for p in (workdir / "results").rglob(".*") if ".tmp" in p.name) == []


@pytest.mark.workflow
def test_two_runs_from_scratch_give_identical_tables(tmp_path_factory, tiny_run):
    workdir = fresh(tmp_path_factory, "again")
    proc = snakemake(workdir, *TARGETS)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert_same_tables(workdir, tiny_run)


def test_outputs_get_the_usual_permissions_and_stale_temporaries_go(tmp_path):
    from sensiflow.io import write_json

    stale = tmp_path / ".table.k1ll3d.tmp.json"  # left by a writer killed mid-file
    stale.write_text("half a file")
    write_json(tmp_path / "table.json", {"a": 1})
    assert sorted(p.name for p in tmp_path.iterdir()) == ["table.json"]
    mask = os.umask(0)
    os.umask(mask)
    assert (tmp_path / "table.json").stat().st_mode & 0o777 == 0o666 & ~mask
