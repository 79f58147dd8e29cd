"""Tabular data: load and check a CSV (or generate rows from an analytic function), and split
it into training and test rows so that exact duplicate rows never straddle the split."""

from __future__ import annotations

import csv
import hashlib
import logging
import re
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

    The file is read as UTF-8 (a byte-order mark is skipped) with any line endings; fields may
    be quoted; spaces around names and values are ignored; blank lines are skipped. Line
    numbers in messages are the file's own.

    Parameters
    ----------
    path : str or Path
        The CSV file.
    sep : str
        Column separator, one character.
    target : str
        Target column.
    inputs : list of str, optional
        Input columns; default every other named column.
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
        (wrong separator), rows with more or fewer fields than the header, duplicate, unnamed
        or missing columns, text in numeric columns, missing or infinite cells, constant
        columns.
    """
    path = Path(path)
    where = str(path)
    header, rows, lines = _read_rows(path, sep)
    raw = pd.DataFrame(rows, columns=range(len(header)), dtype=str)
    raw.columns = header
    notes: list[str] = []
    raw = _drop_unnamed(raw, where, notes, needed=inputs is None)
    if target not in raw.columns:
        raise SensiflowError(
            where,
            f"target column {target!r} not found (data.target; columns: {', '.join(raw.columns)})",
        )
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
    numeric, text_columns = _to_numeric(raw[columns + [target]], lines)
    if text_columns:
        first = "; ".join(f"{c!r} (line {line}: {value!r})" for c, line, value in text_columns)
        names = [c for c, _, _ in text_columns]
        droppable = inputs is None and target not in names
        if drop_non_numeric and droppable:
            notes.append(f"dropped non-numeric column(s): {', '.join(names)}")
            log.warning("%s: %s", where, notes[-1])
            columns = [c for c in columns if c not in names]
            numeric = numeric.drop(columns=names)
        else:
            hint = "; set data.drop_non_numeric: true to drop them" if droppable else ""
            if any(_DECIMAL_COMMA.match(v) for _, _, v in text_columns):
                hint = "; decimal commas? sensiflow reads '.' as the decimal mark"
            raise SensiflowError(where, f"non-numeric column(s): {first}{hint}")
    if not columns:
        raise SensiflowError(where, "no numeric input columns left")
    numeric, lines = _missing_cells(numeric, lines, where, notes, drop=drop_missing_rows)
    for column in columns + [target]:
        values = numeric[column].to_numpy()
        if values.min() == values.max():
            kind = "target" if column == target else "input"
            raise SensiflowError(
                where,
                f"{kind} column {column!r} is constant (every value "
                f"{values[0]:g}); it carries no information",
            )
    return Table(numeric[columns + [target]], columns, target, where, notes)


_DECIMAL_COMMA = re.compile(r"^[+-]?\d+,\d+$")
_MISSING = {"", "nan", "NaN", "NA", "N/A", "null", "NULL", "inf", "-inf", "Inf", "-Inf"}


def _read_rows(path: Path, sep: str) -> tuple[list[str], list[list[str]], np.ndarray]:
    """Header, data rows and each row's line number; refuses rows of the wrong length."""
    where = str(path)
    if len(sep) != 1:
        raise SensiflowError(where, f"the separator {sep!r} must be one character (data.sep)")
    try:
        with open(path, newline="", encoding="utf-8-sig") as fh:
            reader = csv.reader(fh, delimiter=sep)
            header, rows, lines = None, [], []
            for row in reader:
                if not row or (len(row) == 1 and not row[0].strip()):
                    continue  # a blank line
                if header is None:
                    if not any(cell.strip() for cell in row):
                        continue
                    header = [cell.strip() for cell in row]
                    _check_header(header, where, sep)
                    continue
                if len(row) != len(header):
                    _wrong_length(reader, row, header, sep, where)
                rows.append(row)
                lines.append(reader.line_num)
    except FileNotFoundError:
        raise SensiflowError(where, "file not found (data.path)") from None
    except IsADirectoryError:
        raise SensiflowError(where, "is a directory, not a CSV file (data.path)") from None
    except PermissionError:
        raise SensiflowError(where, "cannot be read: permission denied") from None
    except UnicodeDecodeError:
        raise SensiflowError(where, "is not a UTF-8 text file; save it as UTF-8") from None
    except csv.Error as exc:
        raise SensiflowError(where, f"is not a readable CSV file ({exc})") from None
    if header is None:
        raise SensiflowError(where, "the file is empty (no header row)")
    if not rows:
        raise SensiflowError(where, "has a header but no data rows")
    return header, rows, np.array(lines)


def _check_header(header: list[str], where: str, sep: str) -> None:
    if len(header) == 1:
        guess = next((s for s in (";", ",", "\t", "|") if s != sep and s in header[0]), None)
        hint = f"; is the separator {guess!r}? set data.sep" if guess else ""
        raise SensiflowError(
            where, f"parsed as a single column {header[0][:60]!r} with separator {sep!r}{hint}"
        )
    dupes = sorted({h for h in header if h and header.count(h) > 1})
    if dupes:
        raise SensiflowError(where, f"duplicate column name(s): {', '.join(dupes)}")


def _wrong_length(reader: Any, row: list[str], header: list[str], sep: str, where: str) -> None:
    raise SensiflowError(
        where,
        f"line {reader.line_num} has {len(row)} fields but the header has {len(header)} "
        f"(separator {sep!r}; quote fields that contain it)",
    )


def _drop_unnamed(raw: pd.DataFrame, where: str, notes: list[str], *, needed: bool) -> pd.DataFrame:
    """Drop columns without a name that hold nothing (trailing separators); refuse others that
    would become inputs."""
    unnamed = [i for i, name in enumerate(raw.columns) if name == ""]
    if not unnamed:
        return raw
    empty = [i for i in unnamed if (raw.iloc[:, i].str.strip() == "").all()]
    filled = [i for i in unnamed if i not in empty]
    if filled and needed:
        raise SensiflowError(
            where,
            f"column {filled[0] + 1} has no name in the header (a row index?); "
            "name it, or list the input columns in data.inputs",
        )
    if empty:
        notes.append(f"ignored {len(empty)} empty unnamed column(s) (trailing separators?)")
    return raw.iloc[:, [i for i in range(raw.shape[1]) if i not in unnamed]]


def _to_numeric(
    raw: pd.DataFrame, lines: np.ndarray
) -> tuple[pd.DataFrame, list[tuple[str, int, str]]]:
    out = {}
    text_columns = []
    for column in raw.columns:
        try:  # most columns are plain numbers: parse them at once
            out[column] = raw[column].to_numpy(dtype=object).astype(float)
            continue
        except ValueError:
            pass
        cells = raw[column].str.strip()
        missing = cells.isin(_MISSING)
        values = pd.to_numeric(cells.where(~missing, "nan"), errors="coerce")
        # a cell that is neither a number nor a recognised missing marker is text
        is_text = values.isna() & ~missing
        if is_text.any():
            i = int(np.flatnonzero(is_text.to_numpy())[0])
            text_columns.append((column, int(lines[i]), str(cells.iloc[i])))
        out[column] = values.to_numpy(dtype=float)
    return pd.DataFrame(out, index=raw.index), text_columns


def _missing_cells(
    numeric: pd.DataFrame, lines: np.ndarray, where: str, notes: list[str], *, drop: bool
) -> tuple[pd.DataFrame, np.ndarray]:
    """Refuse (or drop, with a note) rows holding empty, NaN or infinite cells."""
    finite = np.isfinite(numeric.to_numpy())
    bad = ~finite.all(axis=1)
    if not bad.any():
        return numeric, lines
    shown = ", ".join(map(str, lines[bad][:5])) + (", ..." if bad.sum() > 5 else "")
    per_column = ", ".join(
        f"{c} ({n})" for c, n in zip(numeric.columns, (~finite).sum(axis=0), strict=True) if n
    )
    what = f"{int(bad.sum())} row(s) have empty, NaN or infinite cells (lines {shown}; "
    if not drop:
        raise SensiflowError(
            where, f"{what}columns: {per_column}); set data.drop_missing_rows: true to drop them"
        )
    if bad.all():
        raise SensiflowError(where, f"{what}columns: {per_column}): no complete row is left")
    notes.append(f"dropped {what.replace(' have ', ' with ')}columns: {per_column})")
    log.warning("%s: %s", where, notes[-1])
    return numeric[~bad].reset_index(drop=True), lines[~bad]


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
    constant = [c for c in table.inputs + [table.target] if train[c].nunique() < 2]
    if constant:
        raise SensiflowError(
            table.source,
            f"column {constant[0]!r} is constant over the {len(train)} training rows (its other "
            f"values fell in the test split, data.seed {seed}); a network cannot learn its "
            "effect: drop it from data.inputs or change data.seed",
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
