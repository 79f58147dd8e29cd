rule data:
    input:
        data_inputs(),
    output:
        train="results/data/train.csv",
        test="results/data/test.csv",
        summary=report(
            "results/data/data.json",
            caption="../report/data.rst",
            category="1. Data and fit",
        ),
    params:
        settings=settings("data", "function"),
        version=VERSION,
    log:
        "results/logs/data.log",
    conda:
        ENV
    shell:
        "sensiflow data --settings {params.settings:q} --train {output.train}"
        " --test {output.test} --summary {output.summary} --log {log}"


rule space:
    input:
        train=rules.data.output.train,
        summary=rules.data.output.summary,
    output:
        problem="results/space/problem.json",
        points="results/space/operating_points.json",
        coverage=report(
            "results/space/coverage.json",
            caption="../report/coverage.rst",
            category="2. Input space and designs",
        ),
    params:
        settings=settings("space", "function", "local"),
        version=VERSION,
    log:
        "results/logs/space.log",
    conda:
        ENV
    shell:
        "sensiflow space --settings {params.settings:q} --summary {input.summary}"
        " --train {input.train} --problem {output.problem} --points {output.points}"
        " --coverage {output.coverage} --log {log}"


rule designs:
    input:
        problem=rules.space.output.problem,
    output:
        sobol="results/designs/sobol.json",
        morris="results/designs/morris.npz",
        summary=report(
            "results/designs/design_summary.csv",
            caption="../report/design_summary.rst",
            category="2. Input space and designs",
        ),
    params:
        settings=settings("sobol", "morris"),
        version=VERSION,
    log:
        "results/logs/designs.log",
    benchmark:
        "results/benchmarks/designs.tsv"
    conda:
        ENV
    shell:
        "sensiflow designs --settings {params.settings:q} --problem {input.problem}"
        " --sobol {output.sobol} --morris {output.morris}"
        " --design-summary {output.summary} --log {log}"
