"""Figures of the report (matplotlib, files only; wide tables are built here from tidy ones)."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from sensiflow.io import write_with  # noqa: E402


def _save(fig: plt.Figure, path: str | Path) -> None:
    fig.tight_layout()
    write_with(path, lambda p: fig.savefig(p, dpi=110, metadata={"Software": None}))
    plt.close(fig)


def training_curve(history: pd.DataFrame, path: str | Path, *, title: str) -> None:
    """Training and validation loss per epoch (log scale)."""
    fig, ax = plt.subplots(figsize=(6, 3.5))
    if len(history):
        ax.plot(history["epoch"], history["loss"], label="training")
        ax.plot(history["epoch"], history["val_loss"], label="validation")
        best = history["val_loss"].idxmin()
        ax.axvline(history["epoch"][best], color="grey", ls=":", label="kept weights")
        ax.set_yscale("log")
        ax.legend()
    else:
        ax.text(0.5, 0.5, "no training (given model)", ha="center", va="center")
    ax.set_xlabel("epoch")
    ax.set_ylabel("mean squared error (original units²)")
    ax.set_title(title)
    _save(fig, path)


def sobol_bars(sobol: pd.DataFrame, path: str | Path, *, title: str) -> None:
    """S1 and ST per input with their confidence intervals as error bars."""
    names = list(sobol[sobol["index"] == "S1"]["input"])
    x = np.arange(len(names))
    fig, ax = plt.subplots(figsize=(max(6, 0.6 * len(names) + 2), 4))
    for offset, index in ((-0.2, "S1"), (0.2, "ST")):
        rows = sobol[sobol["index"] == index].set_index("input").loc[names]
        err = np.vstack([rows["estimate"] - rows["ci_low"], rows["ci_high"] - rows["estimate"]])
        ax.bar(
            x + offset,
            rows["estimate"],
            width=0.4,
            label=index,
            yerr=np.clip(err, 0, None),
            capsize=3,
        )
    ax.set_xticks(x, names, rotation=45, ha="right")
    ax.axhline(0, color="black", lw=0.5)
    ax.set_ylabel("index (fraction of Var y)")
    interval = sobol["interval"].iloc[0]
    ax.set_title(f"{title}\nSobol' S1 and ST, {interval} bootstrap intervals")
    ax.legend()
    _save(fig, path)


def s2_heatmap(sobol: pd.DataFrame, path: str | Path, *, title: str) -> None:
    """Second-order indices as a matrix (upper triangle)."""
    names = list(sobol[sobol["index"] == "S1"]["input"])
    s2 = sobol[sobol["index"] == "S2"]
    fig, ax = plt.subplots(figsize=(max(5, 0.5 * len(names) + 2),) * 2)
    if len(s2) == 0:
        ax.text(
            0.5,
            0.5,
            "second-order indices not computed\n(sobol.second_order: false)",
            ha="center",
            va="center",
        )
        ax.axis("off")
    else:
        pos = {n: i for i, n in enumerate(names)}
        mat = np.full((len(names), len(names)), np.nan)
        for row in s2.itertuples():
            mat[pos[row.input], pos[row.input_2]] = row.estimate
        lim = max(np.nanmax(np.abs(mat)), 1e-12)
        im = ax.imshow(mat, cmap="RdBu_r", vmin=-lim, vmax=lim)
        ax.set_xticks(range(len(names)), names, rotation=90)
        ax.set_yticks(range(len(names)), names)
        fig.colorbar(im, ax=ax, shrink=0.8, label="S2")
    ax.set_title(f"{title}\nSobol' second-order indices")
    _save(fig, path)


def morris_plot(morris: pd.DataFrame, path: str | Path, *, title: str) -> None:
    """Morris mu* against sigma, each input labelled, with the mu* interval."""
    fig, ax = plt.subplots(figsize=(6, 4.5))
    ax.errorbar(morris["mu_star"], morris["sigma"], xerr=morris["mu_star_conf"], fmt="o", capsize=3)
    for row in morris.itertuples():
        ax.annotate(
            row.input,
            (row.mu_star, row.sigma),
            textcoords="offset points",
            xytext=(4, 4),
            fontsize=8,
        )
    ax.set_xlabel("mu* (output units per full-range step)")
    ax.set_ylabel("sigma")
    ax.set_title(f"{title}\nMorris elementary effects")
    _save(fig, path)


def gradient_distributions(
    gradients: np.ndarray,
    names: list[str],
    factors: np.ndarray,
    path: str | Path,
    *,
    title: str,
    source: str,
) -> None:
    """Box plots of standardised gradients per input."""
    fig, ax = plt.subplots(figsize=(7, max(3, 0.4 * len(names) + 1.5)))
    if len(gradients):
        ax.boxplot(
            gradients * factors, orientation="horizontal", tick_labels=names, showfliers=False
        )
    ax.invert_yaxis()  # first input on top, as in the tables
    ax.axvline(0, color="grey", lw=0.5)
    ax.set_xlabel("dy/dx · sd(x) / sd(y) (standardised units)")
    ax.set_title(f"{title}\ngradients at the {source}")
    _save(fig, path)


def rank_grid(comparison: pd.DataFrame, path: str | Path, *, title: str) -> None:
    """Rank of every input under every measure, local ones first."""
    wide = comparison.pivot(index="input", columns="measure", values="rank")
    order = [
        m for m in ("mean_abs_grad", "rms_grad", "S1", "ST", "mu_star", "dgsm_bound") if m in wide
    ]
    wide = wide[order].sort_values("ST")
    fig, ax = plt.subplots(figsize=(7, max(3, 0.4 * len(wide) + 1.5)))
    im = ax.imshow(wide.to_numpy(float), cmap="viridis_r", aspect="auto")
    for (i, j), value in np.ndenumerate(wide.to_numpy(float)):
        if np.isfinite(value):
            ax.text(j, i, f"{int(value)}", ha="center", va="center", color="white", fontsize=8)
    ax.set_xticks(range(len(order)), order, rotation=30, ha="right")
    ax.set_yticks(range(len(wide)), wide.index)
    fig.colorbar(im, ax=ax, label="rank (1 = most influential)")
    ax.set_title(f"{title}\nlocal (gradients) vs global ranks")
    _save(fig, path)


def ensemble_values(
    values: pd.DataFrame,
    summary: pd.DataFrame,
    path: str | Path,
    *,
    measures: tuple[str, ...] = ("ST", "mean_abs_grad"),
) -> None:
    """Per input, each seed's estimate (dots) and the ensemble mean with its combined interval
    (bar), one panel per measure; inputs ordered by the first measure's mean."""
    first = summary[summary["measure"] == measures[0]].sort_values("mean", ascending=False)
    names = list(first["input"])
    y = np.arange(len(names))[::-1]
    models = list(dict.fromkeys(values["model"]))
    fig, axes = plt.subplots(
        1, len(measures), figsize=(4 * len(measures) + 2, max(3, 0.4 * len(names) + 1.5))
    )
    for ax, measure in zip(np.atleast_1d(axes), measures, strict=True):
        rows = summary[summary["measure"] == measure].set_index("input").loc[names]
        ax.errorbar(
            rows["mean"],
            y,
            xerr=np.vstack([rows["mean"] - rows["ci_low"], rows["ci_high"] - rows["mean"]]),
            fmt="s",
            color="black",
            capsize=3,
            label="mean, combined interval",
        )
        for k, model in enumerate(models):
            seed = values[(values["model"] == model) & (values["measure"] == measure)]
            seed = seed.set_index("input").loc[names]
            offset = 0.25 * (k - (len(models) - 1) / 2) / max(len(models) - 1, 1)
            ax.plot(seed["value"], y + offset, "o", ms=4, alpha=0.7, label=model)
        ax.set_yticks(y, names)
        ax.axvline(0, color="grey", lw=0.5)
        ax.set_xlabel(measure)
    np.atleast_1d(axes)[0].legend(fontsize=7)
    fig.suptitle(f"{len(models)} training seeds: each seed's estimate and the ensemble mean")
    _save(fig, path)


def rank_stability_grid(ranks: pd.DataFrame, path: str | Path) -> None:
    """Per measure and input, the fraction of seeds in which the input holds its ensemble rank
    (colour), with that rank written in each cell."""
    measures = set(ranks["measure"])
    order = [
        m
        for m in ("mean_abs_grad", "rms_grad", "S1", "ST", "mu_star", "dgsm_bound")
        if m in measures
    ]
    stability = ranks.pivot(index="input", columns="measure", values="rank_stability")[order]
    rank = ranks.pivot(index="input", columns="measure", values="rank")[order]
    if "ST" in rank:
        stability, rank = stability.loc[rank["ST"].sort_values().index], rank.sort_values("ST")
    fig, ax = plt.subplots(figsize=(7, max(3, 0.4 * len(rank) + 1.5)))
    im = ax.imshow(stability.to_numpy(float), cmap="RdYlGn", vmin=0, vmax=1, aspect="auto")
    for (i, j), value in np.ndenumerate(rank.to_numpy(float)):
        if np.isfinite(value):
            ax.text(j, i, f"{int(value)}", ha="center", va="center", fontsize=8)
    ax.set_xticks(range(len(order)), order, rotation=30, ha="right")
    ax.set_yticks(range(len(rank)), rank.index)
    fig.colorbar(im, ax=ax, label="fraction of seeds holding the rank")
    ax.set_title("rank by ensemble mean (number) and how often seeds agree (colour)")
    _save(fig, path)
