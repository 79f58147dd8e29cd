rule plots:
    input:
        summary=rules.data.output.summary,
        history=rules.model.output.history,
        sobol=rules.indices.output.sobol,
        morris=rules.indices.output.morris,
        gradients=rules.evaluate.output.gradients,
        comparison=rules.compare.output.comparison,
    output:
        training=report(
            "results/{model}/plots/training_curve.png",
            caption="../report/training_curve.rst",
            category="1. Data and fit",
            subcategory="{model}",
        ),
        sobol=report(
            "results/{model}/plots/sobol.png",
            caption="../report/sobol_plot.rst",
            category="3. Global sensitivity",
            subcategory="{model}",
        ),
        s2=report(
            "results/{model}/plots/s2.png",
            caption="../report/s2_plot.rst",
            category="3. Global sensitivity",
            subcategory="{model}",
        ),
        morris=report(
            "results/{model}/plots/morris.png",
            caption="../report/morris_plot.rst",
            category="3. Global sensitivity",
            subcategory="{model}",
        ),
        gradients=report(
            "results/{model}/plots/gradients.png",
            caption="../report/gradient_plot.rst",
            category="4. Local sensitivity",
            subcategory="{model}",
        ),
        ranks=report(
            "results/{model}/plots/ranks.png",
            caption="../report/rank_plot.rst",
            category="5. Local vs global",
            subcategory="{model}",
        ),
    params:
        version=VERSION,
    log:
        "results/logs/plots/{model}.log",
    conda:
        ENV
    shell:
        "sensiflow plots --title {wildcards.model} --summary {input.summary}"
        " --history {input.history} --sobol-table {input.sobol}"
        " --morris-table {input.morris} --gradients {input.gradients}"
        " --comparison {input.comparison} --training-curve {output.training}"
        " --sobol-plot {output.sobol} --s2-plot {output.s2} --morris-plot {output.morris}"
        " --gradient-plot {output.gradients} --rank-plot {output.ranks} --log {log}"
