rule ensemble:
    input:
        comparison=expand(rules.compare.output.comparison, model=MODELS),
        sobol=expand(rules.indices.output.sobol, model=MODELS),
        morris=expand(rules.indices.output.morris, model=MODELS),
        local=expand(rules.local.output[0], model=MODELS),
        fit=expand(rules.model.output.fit, model=MODELS),
    output:
        values="results/ensemble/tables/values.csv",
        summary=report(
            "results/ensemble/tables/summary.csv",
            caption="../report/ensemble_summary.rst",
            category="6. Ensemble of seeds",
        ),
        ranks=report(
            "results/ensemble/tables/ranks.csv",
            caption="../report/ensemble_ranks.rst",
            category="6. Ensemble of seeds",
        ),
        top=report(
            "results/ensemble/tables/top.csv",
            caption="../report/ensemble_top.rst",
            category="6. Ensemble of seeds",
        ),
        fit=report(
            "results/ensemble/tables/fit.csv",
            caption="../report/ensemble_fit.rst",
            category="6. Ensemble of seeds",
        ),
        values_plot=report(
            "results/ensemble/plots/values.png",
            caption="../report/ensemble_values_plot.rst",
            category="6. Ensemble of seeds",
        ),
        stability_plot=report(
            "results/ensemble/plots/rank_stability.png",
            caption="../report/ensemble_stability_plot.rst",
            category="6. Ensemble of seeds",
        ),
    params:
        settings=settings("sobol", "morris"),
        models=MODELS,
        version=VERSION,
    log:
        "results/logs/ensemble.log",
    conda:
        ENV
    shell:
        "sensiflow ensemble --settings {params.settings:q} --models {params.models}"
        " --comparison {input.comparison} --sobol-table {input.sobol}"
        " --morris-table {input.morris} --local {input.local} --fit {input.fit}"
        " --values {output.values} --ensemble-summary {output.summary}"
        " --ranks {output.ranks} --top {output.top} --fit-table {output.fit}"
        " --values-plot {output.values_plot} --stability-plot {output.stability_plot}"
        " --log {log}"
