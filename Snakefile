# sensiflow: local and global sensitivity of a trained network, end to end.
# Run:    snakemake --cores 8          (then: snakemake --report results/report.html)
# Config: config.yaml, checked against workflow/schemas/config.schema.yaml
from snakemake.utils import min_version

min_version("9.0")


configfile: "config.yaml"


report: "workflow/report/workflow.rst"


include: "workflow/rules/common.smk"
include: "workflow/rules/data.smk"
include: "workflow/rules/model.smk"
include: "workflow/rules/analysis.smk"
include: "workflow/rules/report.smk"
include: "workflow/rules/ensemble.smk"


rule all:
    input:
        final_outputs(),
    default_target: True
