"""Atomic file output: every file appears complete under its final name, or not at all."""

from __future__ import annotations

import glob
import json
import os
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd


@contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; rename it to ``path`` only if the block succeeds.

    The temporary name (``.<stem>.<random>.tmp<suffix>``) keeps the final suffix, so writers
    that infer the format from it (Keras, matplotlib) work unchanged. Temporary files of
    ``path`` left by a process killed mid-write are removed first. The file gets the usual
    permissions (0666 less the umask), not the private ones of a temporary file.
    """
    final = Path(path)
    final.parent.mkdir(parents=True, exist_ok=True)
    for stale in final.parent.glob(f".{glob.escape(final.stem)}.*.tmp{final.suffix}"):
        stale.unlink(missing_ok=True)
    fd, tmp = tempfile.mkstemp(
        prefix=f".{final.stem}.", suffix=f".tmp{final.suffix}", dir=final.parent
    )
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        os.chmod(tmp_path, 0o666 & ~_umask())
        os.replace(tmp_path, final)
    finally:
        if tmp_path.exists():
            tmp_path.unlink()


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def write_with(path: str | os.PathLike, writer: Callable[[Path], Any]) -> None:
    """Call ``writer(tmp_path)`` and move the result to ``path`` atomically."""
    with atomic_path(path) as tmp:
        writer(tmp)


def _json_default(obj: Any) -> Any:
    if isinstance(obj, np.integer):
        return int(obj)
    if isinstance(obj, np.floating):
        return float(obj)
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, Path):
        return str(obj)
    raise TypeError(f"cannot write {type(obj).__name__} as JSON")


def write_json(path: str | os.PathLike, obj: Any) -> None:
    """Write ``obj`` as indented, key-sorted JSON (byte-identical for equal content)."""
    text = json.dumps(obj, indent=2, sort_keys=True, default=_json_default) + "\n"
    write_with(path, lambda p: p.write_text(text))


def read_json(path: str | os.PathLike) -> Any:
    """Read a JSON file written by :func:`write_json`."""
    with open(path) as fh:
        return json.load(fh)


def write_csv(path: str | os.PathLike, frame: pd.DataFrame) -> None:
    """Write a tidy table as CSV without the index, floats at full precision."""
    write_with(path, lambda p: frame.to_csv(p, index=False, float_format="%.10g"))


def write_npy(path: str | os.PathLike, array: np.ndarray) -> None:
    """Write one array as ``.npy``."""
    write_with(path, lambda p: np.save(p, array))


def write_npz(path: str | os.PathLike, **arrays: np.ndarray) -> None:
    """Write several named arrays as an uncompressed ``.npz``."""

    def _save(p: Path) -> None:
        with open(p, "wb") as fh:
            np.savez(fh, **arrays)

    write_with(path, _save)
