rule indices:
    input:
        problem=rules.space.output.problem,
        sobol=rules.designs.output.sobol,
        morris=rules.designs.output.morris,
        sobol_y=rules.evaluate.output.sobol_y,
        morris_y=rules.evaluate.output.morris_y,
        gradients=rules.evaluate.output.gradients,
    output:
        sobol=report(
            "results/{model}/tables/sobol.csv",
            caption="../report/sobol_table.rst",
            category="3. Global sensitivity",
            subcategory="{model}",
        ),
        morris=report(
            "results/{model}/tables/morris.csv",
            caption="../report/morris_table.rst",
            category="3. Global sensitivity",
            subcategory="{model}",
        ),
        dgsm=report(
            "results/{model}/tables/dgsm.csv",
            caption="../report/dgsm_table.rst",
            category="3. Global sensitivity",
            subcategory="{model}",
        ),
    params:
        settings=settings("sobol", "morris"),
        version=VERSION,
    log:
        "results/logs/indices/{model}.log",
    benchmark:
        "results/benchmarks/indices/{model}.tsv"
    conda:
        ENV
    shell:
        "sensiflow indices --settings {params.settings:q} --problem {input.problem}"
        " --sobol {input.sobol} --sobol-y {input.sobol_y} --morris {input.morris}"
        " --morris-y {input.morris_y} --gradients {input.gradients}"
        " --sobol-table {output.sobol} --morris-table {output.morris}"
        " --dgsm-table {output.dgsm} --log {log}"


rule local:
    input:
        summary=rules.data.output.summary,
        gradients=rules.evaluate.output.gradients,
    output:
        report(
            "results/{model}/tables/local.csv",
            caption="../report/local_table.rst",
            category="4. Local sensitivity",
            subcategory="{model}",
        ),
    params:
        version=VERSION,
    log:
        "results/logs/local/{model}.log",
    conda:
        ENV
    shell:
        "sensiflow local --summary {input.summary} --gradients {input.gradients}"
        " --out {output} --log {log}"


rule compare:
    input:
        local=rules.local.output[0],
        sobol=rules.indices.output.sobol,
        morris=rules.indices.output.morris,
        dgsm=rules.indices.output.dgsm,
    output:
        comparison=report(
            "results/{model}/tables/comparison.csv",
            caption="../report/comparison.rst",
            category="5. Local vs global",
            subcategory="{model}",
        ),
        correlations=report(
            "results/{model}/tables/rank_correlations.csv",
            caption="../report/rank_correlations.rst",
            category="5. Local vs global",
            subcategory="{model}",
        ),
        flags=report(
            "results/{model}/tables/flags.csv",
            caption="../report/flags.rst",
            category="5. Local vs global",
            subcategory="{model}",
        ),
    params:
        settings=settings("compare"),
        version=VERSION,
    log:
        "results/logs/compare/{model}.log",
    conda:
        ENV
    shell:
        "sensiflow compare --settings {params.settings:q} --local {input.local}"
        " --sobol-table {input.sobol} --morris-table {input.morris}"
        " --dgsm-table {input.dgsm} --comparison {output.comparison}"
        " --correlations {output.correlations} --flags {output.flags} --log {log}"
