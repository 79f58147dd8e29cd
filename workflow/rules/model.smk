rule model:
    input:
        model_inputs(),
        train=rules.data.output.train,
        test=rules.data.output.test,
        summary=rules.data.output.summary,
    output:
        **model_files("{model}"),
        fit=report(
            "results/{model}/fit.json",
            caption="../report/fit.rst",
            category="1. Data and fit",
            subcategory="{model}",
        ),
        history="results/{model}/history.csv",
    params:
        settings=settings("model", "function", "evaluation"),
        keras=keras_option,
        version=VERSION,
    log:
        "results/logs/model/{model}.log",
    benchmark:
        "results/benchmarks/model/{model}.tsv"
    resources:
        gpu=1,
    conda:
        ENV
    shell:
        "sensiflow model --settings {params.settings:q} --model-id {wildcards.model}"
        " --summary {input.summary} --train {input.train} --test {input.test}"
        " --card {output.card} {params.keras} --fit {output.fit}"
        " --history {output.history} --log {log}"


rule evaluate:
    input:
        **model_files("{model}"),
        problem=rules.space.output.problem,
        points=rules.space.output.points,
        sobol=rules.designs.output.sobol,
        morris=rules.designs.output.morris,
        train=rules.data.output.train,
        test=rules.data.output.test,
    output:
        sobol_y="results/{model}/evaluations/sobol_y.npy",
        morris_y="results/{model}/evaluations/morris_y.npy",
        gradients="results/{model}/evaluations/gradients.npz",
        meta="results/{model}/evaluations/evaluation.json",
    params:
        settings=settings("evaluation"),
        version=VERSION,
    log:
        "results/logs/evaluate/{model}.log",
    benchmark:
        "results/benchmarks/evaluate/{model}.tsv"
    resources:
        gpu=1,
    conda:
        ENV
    shell:
        "sensiflow evaluate --settings {params.settings:q} --card {input.card}"
        " --problem {input.problem} --sobol {input.sobol} --morris {input.morris}"
        " --train {input.train} --test {input.test} --points {input.points}"
        " --sobol-y {output.sobol_y} --morris-y {output.morris_y}"
        " --gradients {output.gradients} --meta {output.meta} --log {log}"
