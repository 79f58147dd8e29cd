"""Tabular data: load and check a CSV (or generate rows from an analytic function), and split
it into training and test rows so that exact duplicate rows never straddle the split."""

from __future__ import annotations

import csv
import hashlib
import logging
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sensiflow.errors import SensiflowError
from sensiflow.functions import Function

log = logging.getLogger(__name__)

WINE_FILE = "winequality-red.csv"
WINE_SHA256 = "4a402cf041b025d4566d954c3b9ba8635a3a8a01e039005d97d6a710278cf05e"
CORRELATION_WARNING = 0.9
MIN_TRAIN_ROWS, MIN_TEST_ROWS = 10, 3


@dataclass(frozen=True)
class Table:
    """A checked table: ``frame`` holds the input columns then the target, all float64."""

    frame: pd.DataFrame
    inputs: list[str]
    target: str
    source: str
    notes: list[str]


def bundled_wine_path() -> Path:
    """Path of the bundled UCI Wine Quality (red) table."""
    return Path(str(resources.files("sensiflow").joinpath(f"datasets/{WINE_FILE}")))


def sha256(path: str | Path) -> str:
    """Hex SHA-256 of a file."""
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def load_bundled_wine(*, target: str = "quality", inputs: list[str] | None = None) -> Table:
    """Load the bundled wine table after checking its SHA-256."""
    path = bundled_wine_path()
    digest = sha256(path)
    if digest != WINE_SHA256:
        raise SensiflowError(
            str(path),
            f"SHA-256 {digest} differs from {WINE_SHA256}; "
            "the bundled file is damaged, reinstall sensiflow",
        )
    return load_table(path, sep=";", target=target, inputs=inputs)


def load_table(
    path: str | Path,
    *,
    sep: str,
    target: str,
    inputs: list[str] | None = None,
    drop_non_numeric: bool = False,
    drop_missing_rows: bool = False,
) -> Table:
    """Read a CSV and check it cell by cell.

    Parameters
    ----------
    path : str or Path
        The CSV file.
    sep : str
        Column separator.
    target : str
        Target column.
    inputs : list of str, optional
        Input columns; default every other column.
    drop_non_numeric : bool
        Drop columns that hold text (only when ``inputs`` is not given) instead of refusing.
    drop_missing_rows : bool
        Drop rows with empty, NaN or infinite cells instead of refusing.

    Returns
    -------
    Table

    Raises
    ------
    SensiflowError
        Naming the file and what is wrong: unreadable or empty file, a single parsed column
        (wrong separator), duplicate or missing columns, text in numeric columns, missing or
        infinite cells, constant columns.
    """
    path = Path(path)
    where = str(path)
    header = _read_header(path, sep)
    if len(header) == 1 and sep not in header[0]:
        guess = next((s for s in (";", ",", "\t", "|") if s in header[0]), None)
        hint = f"; is the separator {guess!r}? set data.sep" if guess else ""
        raise SensiflowError(
            where, f"parsed as a single column {header[0][:60]!r} with separator {sep!r}{hint}"
        )
    dupes = sorted({h for h in header if header.count(h) > 1})
    if dupes:
        raise SensiflowError(where, f"duplicate column name(s): {', '.join(dupes)}")
    raw = pd.read_csv(path, sep=sep, dtype=str, keep_default_na=False, skipinitialspace=True)
    if len(raw) == 0:
        raise SensiflowError(where, "has a header but no data rows")
    if target not in raw.columns:
        raise SensiflowError(
            where,
            f"target column {target!r} not found (data.target; columns: {', '.join(raw.columns)})",
        )
    notes: list[str] = []
    if inputs is not None:
        missing = [c for c in inputs if c not in raw.columns]
        if missing:
            raise SensiflowError(
                where,
                f"input column(s) {', '.join(map(repr, missing))} not "
                f"found (data.inputs; columns: {', '.join(raw.columns)})",
            )
        if target in inputs:
            raise SensiflowError(where, f"the target {target!r} is also listed in data.inputs")
    columns = list(inputs) if inputs is not None else [c for c in raw.columns if c != target]
    numeric, text_columns = _to_numeric(raw[columns + [target]])
    if text_columns:
        first = "; ".join(f"{c!r} (line {line}: {value!r})" for c, line, value in text_columns)
        names = [c for c, _, _ in text_columns]
        if drop_non_numeric and inputs is None and target not in names:
            notes.append(f"dropped non-numeric column(s): {', '.join(names)}")
            log.warning("%s: %s", where, notes[-1])
            columns = [c for c in columns if c not in names]
            numeric = numeric.drop(columns=names)
        else:
            hint = (
                "; set data.drop_non_numeric: true to drop them"
                if inputs is None and target not in names
                else ""
            )
            raise SensiflowError(where, f"non-numeric column(s): {first}{hint}")
    if not columns:
        raise SensiflowError(where, "no numeric input columns left")
    bad = ~np.isfinite(numeric.to_numpy()).all(axis=1)
    if bad.any():
        lines = (np.flatnonzero(bad) + 2).tolist()
        shown = ", ".join(map(str, lines[:5]))
        if drop_missing_rows:
            notes.append(
                f"dropped {len(lines)} row(s) with empty, NaN or infinite cells "
                f"(lines {shown}{', ...' if len(lines) > 5 else ''})"
            )
            log.warning("%s: %s", where, notes[-1])
            numeric = numeric[~bad].reset_index(drop=True)
        else:
            raise SensiflowError(
                where,
                f"{len(lines)} row(s) have empty, NaN or infinite cells "
                f"(first at line(s) {shown}); set "
                "data.drop_missing_rows: true to drop them",
            )
    for column in columns + [target]:
        values = numeric[column].to_numpy()
        if len(values) and values.min() == values.max():
            kind = "target" if column == target else "input"
            raise SensiflowError(
                where,
                f"{kind} column {column!r} is constant (every value "
                f"{values[0]:g}); it carries no information",
            )
    return Table(numeric[columns + [target]], columns, target, where, notes)


def _read_header(path: Path, sep: str) -> list[str]:
    try:
        with open(path, newline="", encoding="utf-8-sig") as fh:
            row = next(csv.reader(fh, delimiter=sep), None)
    except FileNotFoundError:
        raise SensiflowError(str(path), "file not found (data.path)") from None
    except IsADirectoryError:
        raise SensiflowError(str(path), "is a directory, not a CSV file (data.path)") from None
    except PermissionError:
        raise SensiflowError(str(path), "cannot be read: permission denied") from None
    except UnicodeDecodeError:
        raise SensiflowError(str(path), "is not a UTF-8 text file") from None
    if row is None or not any(cell.strip() for cell in row):
        raise SensiflowError(str(path), "the file is empty (no header row)")
    return [cell.strip() for cell in row]


def _to_numeric(raw: pd.DataFrame) -> tuple[pd.DataFrame, list[tuple[str, int, str]]]:
    out = {}
    text_columns = []
    missing = {"", "nan", "NaN", "NA", "N/A", "null", "NULL", "inf", "-inf", "Inf", "-Inf"}
    for column in raw.columns:
        cells = raw[column].str.strip()
        values = pd.to_numeric(cells.where(~cells.isin(missing), "nan"), errors="coerce")
        # a cell that is neither a number nor a recognised missing marker is text
        is_text = values.isna() & ~cells.isin(missing)
        if is_text.any():
            i = int(np.flatnonzero(is_text.to_numpy())[0])
            text_columns.append((column, i + 2, str(cells.iloc[i])))
        out[column] = values.astype(float)
    return pd.DataFrame(out), text_columns


def generate_function_table(function: Function, *, rows: int, noise_sd: float, seed: int) -> Table:
    """Draw ``rows`` uniform inputs on the function's domain; target ``y`` = f(x) + noise."""
    rng = np.random.default_rng(seed)
    lo, hi = function.bounds[:, 0], function.bounds[:, 1]
    x = lo + (hi - lo) * rng.random((rows, function.n_inputs))
    y = function(x) + (noise_sd * rng.standard_normal(rows) if noise_sd > 0 else 0.0)
    frame = pd.DataFrame(x, columns=function.input_names)
    frame["y"] = y
    return Table(frame, function.input_names, "y", f"function:{function.name}", [])


def holdout_mask(frame: pd.DataFrame, fraction: float, seed: int) -> np.ndarray:
    """Boolean mask of about ``fraction`` of the rows, never splitting identical rows.

    Groups of identical rows are shuffled with ``seed`` and taken whole until the mask holds
    ``round(fraction * n_rows)`` rows.
    """
    group = frame.groupby(list(frame.columns), sort=False).ngroup().to_numpy()
    n_groups = int(group.max()) + 1 if len(group) else 0
    order = np.random.default_rng(seed).permutation(n_groups)
    wanted = round(fraction * len(frame))
    if wanted == 0:
        return np.zeros(len(frame), dtype=bool)
    cumulative = np.cumsum(np.bincount(group, minlength=n_groups)[order])
    n_taken = int(np.searchsorted(cumulative, wanted)) + 1
    return np.isin(group, order[:n_taken])


def split_train_test(
    table: Table, *, test_fraction: float, seed: int
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Split rows into training and test sets (see :func:`holdout_mask`); both keep the file's
    row order."""
    is_test = holdout_mask(table.frame, test_fraction, seed)
    train, test = table.frame[~is_test], table.frame[is_test]
    if len(train) < MIN_TRAIN_ROWS or len(test) < MIN_TEST_ROWS:
        raise SensiflowError(
            table.source,
            f"{len(table.frame)} rows are too few to split "
            f"(data.test_fraction {test_fraction}: {len(train)} "
            f"training and {len(test)} test rows; need at least "
            f"{MIN_TRAIN_ROWS} and {MIN_TEST_ROWS})",
        )
    return train.reset_index(drop=True), test.reset_index(drop=True)


def summarise(table: Table, train: pd.DataFrame, test: pd.DataFrame) -> dict[str, Any]:
    """Describe the data: sizes, duplicates, per-input training statistics and strong
    correlations between inputs (which an independent input space ignores)."""
    duplicates = int(table.frame.duplicated().sum())
    x = train[table.inputs]
    corr = x.corr().to_numpy()
    strong = []
    for i in range(len(table.inputs)):
        for j in range(i + 1, len(table.inputs)):
            if abs(corr[i, j]) >= CORRELATION_WARNING:
                strong.append(
                    {"inputs": [table.inputs[i], table.inputs[j]], "pearson_r": float(corr[i, j])}
                )
    for pair in strong:
        log.warning(
            "inputs %s and %s are strongly correlated (r = %.3f); an independent input "
            "space puts design points where there is no training data",
            *pair["inputs"],
            pair["pearson_r"],
        )
    stats = {
        c: {
            "mean": float(train[c].mean()),
            "sd": float(train[c].std(ddof=1)),
            "min": float(train[c].min()),
            "max": float(train[c].max()),
            "median": float(train[c].median()),
        }
        for c in table.inputs + [table.target]
    }
    return {
        "source": table.source,
        "inputs": table.inputs,
        "target": table.target,
        "rows": len(table.frame),
        "train_rows": len(train),
        "test_rows": len(test),
        "duplicate_rows": duplicates,
        "notes": table.notes,
        "statistics": stats,
        "strong_correlations": strong,
    }
