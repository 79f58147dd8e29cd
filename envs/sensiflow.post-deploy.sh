#!/usr/bin/env bash
# Install the sensiflow package (without touching the environment's dependencies) from the
# repository root, where snakemake is run.
set -euo pipefail
pip install --no-deps "${SENSIFLOW_SOURCE:-.}"
