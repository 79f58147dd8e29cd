# Setup and helpers; the rule files hold rules only.
import json
import os
import sys

import sensiflow
from sensiflow.config import check_files, model_ids, validate
from snakemake.exceptions import WorkflowError

# the `sensiflow` command beside the Python running snakemake, when none is on PATH (a virtual
# environment used without activating it); an activated one or a rule's conda environment wins
shell.prefix(f'PATH="$PATH:{os.path.dirname(sys.executable)}"; ')

_SOURCES = [str(f) for f in workflow.configfiles]
if workflow.config_settings.config:
    _SOURCES.append("--config")

try:
    config.update(validate(config, source=" + ".join(_SOURCES) or "config"))
    check_files(config, source=" + ".join(_SOURCES) or "config")
except sensiflow.SensiflowError as exc:
    hint = ""
    if workflow.config_settings.config and "is not of type" in str(exc):
        hint = " (--config passes nested values as text: put them in a file for --configfile)"
    raise WorkflowError(f"{exc}{hint}") from None

VERSION = sensiflow.__version__
ENV = "../../envs/sensiflow.yaml"
MODELS = model_ids(config)
NETWORK_FILE = config["model"]["source"] != "function"


wildcard_constraints:
    model="|".join(MODELS),


def settings(*sections):
    """The config sections a step needs, as the JSON its --settings option takes."""
    return json.dumps({s: config[s] for s in sections}, sort_keys=True)


def data_inputs():
    """The user's CSV (a change reruns the data step); nothing for bundled or generated data."""
    data = config["data"]
    return [data["path"]] if data["source"] == "table" and data["path"] else []


def model_inputs():
    """The given model file, when the model is not trained here."""
    model = config["model"]
    return [model["path"]] if model["source"] in ("keras", "matlab") else []


def model_files(model):
    """The model card and, for networks, the saved .keras file."""
    files = {"card": f"results/{model}/model.json"}
    if NETWORK_FILE:
        files["keras"] = f"results/{model}/model.keras"
    return files


def keras_option(wildcards, output):
    return f"--keras {output.keras}" if NETWORK_FILE else ""


def final_outputs():
    """Everything a run delivers."""
    per_model = [
        "results/{model}/fit.json",
        "results/{model}/tables/sobol.csv",
        "results/{model}/tables/morris.csv",
        "results/{model}/tables/dgsm.csv",
        "results/{model}/tables/local.csv",
        "results/{model}/tables/comparison.csv",
        "results/{model}/tables/rank_correlations.csv",
        "results/{model}/tables/flags.csv",
        "results/{model}/plots/training_curve.png",
        "results/{model}/plots/sobol.png",
        "results/{model}/plots/s2.png",
        "results/{model}/plots/morris.png",
        "results/{model}/plots/gradients.png",
        "results/{model}/plots/ranks.png",
    ]
    # several seeds: their summary across seeds (one seed: no ensemble section)
    ensemble = ["results/ensemble/tables/summary.csv"] if len(MODELS) > 1 else []
    return [
        "results/space/coverage.json",
        "results/designs/design_summary.csv",
        *expand(per_model, model=MODELS),
        *ensemble,
    ]
