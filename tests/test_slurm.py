"""The tiny workflow with an ensemble of two seeds through a real Slurm cluster
(``snakemake --workflow-profile profiles/slurm-ci``, snakemake-executor-plugin-slurm).

Needs the one-node loopback cluster of ``ci/slurm/slurm-up.sh`` (``.ci/run`` starts it); the
tests skip themselves when it is not up, unless SENSIFLOW_REQUIRE_SLURM=1 (set by ``.ci/run``)
makes that a failure. Three runs start together, since most of a Slurm run's time is spent
waiting for the scheduler: the workflow through Slurm, the same workflow locally (the
reference its tables must equal), and a run whose data file is corrupt (which must fail).
"""

from __future__ import annotations

import copy
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.test_workflow import REPO, TINY

SLURM_DIR = Path(os.environ.get("SENSIFLOW_SLURM_DIR", "/tmp/sensiflow-slurm"))
SEEDS = [1, 2]
# a run that is still going after this is interrupted (SIGINT: snakemake cancels its jobs)
RUN_LIMIT_S = 480


def cluster_up() -> bool:
    """The loopback cluster of ci/slurm/slurm-up.sh: its recorded slurmctld is alive and the
    node answers."""
    try:
        os.kill(int((SLURM_DIR / "run" / "slurmctld.pid").read_text()), 0)
    except (OSError, ValueError):
        return False
    if shutil.which("sinfo") is None:
        return False
    state = subprocess.run(["sinfo", "-h", "-o", "%T"], capture_output=True, text=True)
    return state.returncode == 0 and state.stdout.strip() in ("idle", "mixed", "allocated")


if os.environ.get("SENSIFLOW_REQUIRE_SLURM") == "1":
    pytestmark = pytest.mark.slurm
else:
    pytestmark = [
        pytest.mark.slurm,
        pytest.mark.skipif(
            not cluster_up(),
            reason="no loopback Slurm cluster up (as root: bash ci/slurm/slurm-up.sh)",
        ),
    ]


def start_snakemake(workdir: Path, *args: str) -> subprocess.Popen:
    """Start snakemake on the repository's workflow in ``workdir``; output to run.log."""
    bindir = str(Path(sys.executable).parent)
    env = {"PATH": f"{bindir}:/usr/bin:/bin", "HOME": str(workdir), "TF_CPP_MIN_LOG_LEVEL": "2"}
    # --foreground: only snakemake gets the SIGINT, and answers it by cancelling its jobs
    command = ["timeout", "--foreground", "-s", "INT", "-k", "60", str(RUN_LIMIT_S)]
    command += [f"{bindir}/snakemake", "--snakefile", str(REPO / "Snakefile")]
    command += ["--directory", str(workdir), *args]
    log = open(workdir / "run.log", "w")  # noqa: SIM115 (closed with the process)
    return subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=env, cwd=workdir)


def slurm_jobs() -> dict[str, dict[str, str]]:
    """Every job slurmctld still knows (MinJobAge): id -> state and comment (rule name)."""
    out = subprocess.run(
        ["squeue", "-h", "--states=all", "-o", "%i|%T|%k"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    jobs = {}
    for line in out.splitlines():
        job, state, comment = line.split("|", 2)
        jobs[job] = {"state": state, "comment": comment}
    return jobs


def job_ids(log: Path) -> list[str]:
    """The Slurm job ids a sensiflow step logged (``running in Slurm job N``)."""
    return re.findall(r"running in Slurm job (\d+)", log.read_text())


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """Start the Slurm run, the local reference run and the failing run; wait for all three."""
    config = copy.deepcopy(TINY)
    config["model"]["seeds"] = SEEDS
    dirs = {name: tmp_path_factory.mktemp(name) for name in ("slurm", "local", "failing")}
    for d in dirs.values():
        (d / "config.yaml").write_text(yaml.safe_dump(config))
    corrupt = dirs["failing"] / "corrupt.csv"
    corrupt.write_bytes(b"alcohol,quality\n9.4,5\n\x00\xff\xfe\x00garbage\n")
    bad = copy.deepcopy(config)
    bad["data"] = {"path": str(corrupt), "target": "quality"}
    (dirs["failing"] / "config.yaml").write_text(yaml.safe_dump(bad))
    profile = str(REPO / "profiles" / "slurm-ci")
    procs = {
        "slurm": start_snakemake(dirs["slurm"], "--workflow-profile", profile),
        "failing": start_snakemake(dirs["failing"], "--workflow-profile", profile),
        "local": start_snakemake(dirs["local"], "--cores", "2"),
    }
    codes = {name: proc.wait(timeout=RUN_LIMIT_S + 120) for name, proc in procs.items()}
    return {name: (dirs[name], codes[name]) for name in dirs}


def ok_run(runs, name: str) -> Path:
    workdir, code = runs[name]
    assert code == 0, (workdir / "run.log").read_text()[-4000:]
    return workdir


def result_files(workdir: Path) -> dict[str, Path]:
    """Tables, arrays and JSON summaries under results/ (not the timing-bearing files)."""
    keep = {".csv", ".npy", ".npz", ".json"}
    skip = {"evaluation.json"}  # records the evaluation's wall time
    root = workdir / "results"
    return {
        str(p.relative_to(root)): p
        for p in sorted(root.rglob("*"))
        if p.suffix in keep and p.name not in skip and "benchmarks" not in p.parts
    }


def test_every_step_ran_in_a_slurm_job_of_its_own(runs):
    workdir = ok_run(runs, "slurm")
    logs = workdir / "results" / "logs"
    jobs = slurm_jobs()
    ids: dict[str, str] = {}
    for seed in (f"seed{s}" for s in SEEDS):
        for rule in ("model", "evaluate", "indices", "local", "compare", "plots"):
            ids[f"{rule}/{seed}"] = job_ids(logs / rule / f"{seed}.log")[-1]
    for rule in ("data", "space", "designs", "ensemble"):
        ids[rule] = job_ids(logs / f"{rule}.log")[-1]
    for step, job in ids.items():
        rule = step.split("/")[0]
        assert jobs[job]["state"] == "COMPLETED", (step, jobs[job])
        # the plugin names each job's rule (or group of rules) in its comment
        assert rule in jobs[job]["comment"], (step, jobs[job])
    # grouped steps share a job (space with designs; one analysis job per seed), all other
    # steps have one of their own
    assert ids["space"] == ids["designs"]
    for seed in ("seed1", "seed2"):
        analysis = {ids[f"{rule}/{seed}"] for rule in ("indices", "local", "compare", "plots")}
        assert len(analysis) == 1
    distinct = [ids[s] for s in ids if not s.startswith(("designs", "local", "compare", "plots"))]
    assert len(set(distinct)) == len(distinct) == 2 * 3 + 3


def test_slurm_results_equal_the_local_run(runs):
    slurm, local = result_files(ok_run(runs, "slurm")), result_files(ok_run(runs, "local"))
    assert slurm.keys() == local.keys()
    assert {"ensemble/tables/summary.csv", "seed2/tables/sobol.csv"} <= slurm.keys()
    # same machine, same seeds, deterministic TensorFlow ops: byte-identical
    differ = [name for name in slurm if slurm[name].read_bytes() != local[name].read_bytes()]
    assert differ == []


def test_report_has_the_ensemble_section(runs):
    workdir = ok_run(runs, "slurm")
    report = subprocess.run(
        [
            str(Path(sys.executable).parent / "snakemake"),
            "--snakefile",
            str(REPO / "Snakefile"),
            "--directory",
            str(workdir),
            "--report",
            "results/report.html",
        ],
        capture_output=True,
        text=True,
        env={"PATH": f"{Path(sys.executable).parent}:/usr/bin:/bin", "HOME": str(workdir)},
        timeout=300,
    )
    assert report.returncode == 0, report.stderr[-3000:]
    html = (workdir / "results" / "report.html").read_text()
    assert "6. Ensemble of seeds" in html
    for name in ("summary.csv", "ranks.csv", "top.csv", "fit.csv", "rank_stability.png"):
        assert name in html


def test_a_failing_job_fails_the_workflow(runs):
    workdir, code = runs["failing"]
    output = (workdir / "run.log").read_text()
    assert code == 1, output[-3000:]
    data_log = (workdir / "results" / "logs" / "data.log").read_text()
    assert f"sensiflow data: error: {workdir / 'corrupt.csv'}:" in data_log
    (job,) = job_ids(workdir / "results" / "logs" / "data.log")
    assert slurm_jobs()[job]["state"] == "FAILED"
    assert f"SLURM-job '{job}' failed" in output
    # the failed step left no output behind, and nothing downstream ran
    assert not list((workdir / "results").glob("data/*.*"))
    assert not (workdir / "results" / "seed1").exists()


def test_no_job_is_left_behind(runs):
    # every run has ended (the fixture waited for them): none of their jobs may still be queued
    active = {j: v for j, v in slurm_jobs().items() if v["state"] in ("PENDING", "RUNNING")}
    assert active == {}
