"""Batched evaluation and exact gradients of a model through compiled TensorFlow functions.

One ``tf.function`` per task, each with a fixed input signature ``[batch_size, n_inputs]`` and
XLA compilation: every batch, the last short one included, is padded to the same shape, so
nothing retraces or recompiles. Gradients come from ``tf.GradientTape``: for a model whose rows
do not interact, the gradient of the summed output with respect to the input batch is each
row's gradient. Runs on a GPU when TensorFlow sees one, on the CPU otherwise.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from sensiflow.errors import SensiflowError

if TYPE_CHECKING:
    from sensiflow.sobol import SobolAccumulator

log = logging.getLogger(__name__)


def configure_tensorflow(*, deterministic: bool = True) -> str:
    """Turn on GPU memory growth and deterministic ops; return the device evaluation uses."""
    import tensorflow as tf

    gpus = tf.config.list_physical_devices("GPU")
    for gpu in gpus:
        try:
            tf.config.experimental.set_memory_growth(gpu, True)
        except RuntimeError:  # already initialised in this process
            pass
    if deterministic:
        tf.config.experimental.enable_op_determinism()
    return "GPU:0" if gpus else "CPU:0"


@dataclass
class Evaluator:
    """Compiled batch functions of one model.

    Attributes
    ----------
    n_inputs : int
    batch_size : int
        Rows per compiled call of :meth:`value`; shorter inputs are padded by repeating their
        last row.
    gradient_batch_size : int
        Rows per compiled call of :meth:`value_and_gradient`.
    dtype : str
        Floating type the model sees; inputs are cast to it explicitly.
    base_rows : int or None
        Rows per Saltelli matrix in a call of :meth:`value_and_base_gradient`, when compiled.
    """

    n_inputs: int
    batch_size: int
    gradient_batch_size: int
    dtype: str
    _value: Callable[[Any], Any]
    _value_and_gradient: Callable[[Any], Any]
    trace_count: dict[str, int] = field(default_factory=dict)
    base_rows: int | None = None
    _value_and_base_gradient: Callable[[Any], Any] | None = None

    def value(self, x: np.ndarray) -> np.ndarray:
        """Model output, ndarray of shape (n,) in float64."""
        return self._run(self._value, x, self.batch_size, with_gradient=False)[0]

    def value_and_gradient(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Output (n,) in float64 and gradient dy/dx (n, n_inputs) in the model's dtype."""
        return self._run(self._value_and_gradient, x, self.gradient_batch_size, with_gradient=True)

    def value_and_base_gradient(self, stack: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Outputs of stacked Saltelli matrices and gradients at the first and last of them
        (A and B), in one compiled call.

        Parameters
        ----------
        stack : ndarray of shape (rows_per_base, n, n_inputs)
            ``rows_per_base * base_rows == batch_size``; fewer than ``base_rows`` rows per
            matrix are padded by repeating the last one.

        Returns
        -------
        y : ndarray of shape (rows_per_base, n), float64
        g : ndarray of shape (2n, n_inputs), the model's dtype: dy/dx at A's rows, then B's.
        """
        per_base, n, d = stack.shape
        if self._value_and_base_gradient is None or per_base * self.base_rows != self.batch_size:
            raise ValueError(
                f"no compiled function for {per_base} matrices of {self.base_rows} rows "
                f"in batches of {self.batch_size} (make_evaluator's base_rows)"
            )
        b = self.base_rows
        if n < b:
            stack = np.pad(stack, ((0, 0), (0, b - n), (0, 0)), mode="edge")
        y, g = self._value_and_base_gradient(stack.reshape(-1, d).astype(self.dtype, copy=False))
        y = np.asarray(y).reshape(per_base, b)[:, :n].astype(np.float64)
        g = np.asarray(g)
        return y, np.concatenate([g[:n], g[b : b + n]])

    def _run(
        self, fn: Callable[[Any], Any], x: np.ndarray, b: int, *, with_gradient: bool
    ) -> tuple[np.ndarray, np.ndarray]:
        x = np.asarray(x)
        if x.ndim != 2 or x.shape[1] != self.n_inputs:
            raise SensiflowError(
                "evaluation", f"expected rows of {self.n_inputs} inputs, got shape {x.shape}"
            )
        n = len(x)
        y = np.empty(n)
        g = np.empty((n if with_gradient else 0, self.n_inputs), dtype=self.dtype)
        for start in range(0, n, b):
            chunk = x[start : start + b].astype(self.dtype, copy=False)
            m = len(chunk)
            if m < b:
                chunk = np.pad(chunk, ((0, b - m), (0, 0)), mode="edge")
            out = fn(chunk)
            # np.asarray views the tensor's buffer (.numpy() would copy it first); the
            # assignments below are the one copy, into the float64 output array
            if with_gradient:
                y[start : start + m] = np.asarray(out[0])[:m]
                g[start : start + m] = np.asarray(out[1])[:m]
            else:
                y[start : start + m] = np.asarray(out)[:m]
        return y, g


def make_evaluator(
    model_fn: Callable[[Any], Any],
    n_inputs: int,
    *,
    batch_size: int,
    gradient_batch_size: int | None = None,
    dtype: str = "float32",
    jit_compile: bool = True,
    base_rows: int | None = None,
) -> Evaluator:
    """Compile ``model_fn`` (TensorFlow ops, rows in, one output per row) for batch evaluation.

    Parameters
    ----------
    model_fn : callable
        Maps a tensor of shape (batch, n_inputs) to outputs of shape (batch,) or (batch, 1).
    n_inputs : int
    batch_size : int
        Fixed batch size of the compiled value function.
    gradient_batch_size : int, optional
        Fixed batch size of the compiled gradient function; default ``batch_size``.
    dtype : {"float32", "float64"}
    jit_compile : bool
        Compile with XLA.
    base_rows : int, optional
        Also compile :meth:`Evaluator.value_and_base_gradient` for batches of
        ``batch_size // base_rows`` stacked Saltelli matrices of ``base_rows`` rows: every
        output of a design chunk and the gradients at its A and B rows in one call, which
        saves a call per chunk and lets XLA schedule both parts together (about a quarter of
        the evaluation time here). The A and B rows are evaluated again under the tape: 2 of
        2D + 2 rows, cheaper than differentiating every row.
    """
    import tensorflow as tf

    traces: dict[str, int] = {"value": 0, "value_and_gradient": 0}
    gradient_batch_size = gradient_batch_size or batch_size
    spec = [tf.TensorSpec([batch_size, n_inputs], getattr(tf, dtype))]
    gradient_spec = [tf.TensorSpec([gradient_batch_size, n_inputs], getattr(tf, dtype))]

    @tf.function(input_signature=spec, jit_compile=jit_compile)
    def value(x):
        traces["value"] += 1  # runs only while tracing
        return tf.reshape(model_fn(x), [-1])

    @tf.function(input_signature=gradient_spec, jit_compile=jit_compile)
    def value_and_gradient(x):
        traces["value_and_gradient"] += 1
        with tf.GradientTape() as tape:
            tape.watch(x)
            y = tf.reshape(model_fn(x), [-1])
        return y, tape.gradient(y, x)

    value_and_base_gradient = None
    if base_rows is not None:
        if batch_size % base_rows:
            raise ValueError(f"batch_size {batch_size} is not a multiple of base_rows {base_rows}")
        traces["value_and_base_gradient"] = 0

        @tf.function(input_signature=spec, jit_compile=jit_compile)
        def value_and_base_gradient(x):
            traces["value_and_base_gradient"] += 1
            y = tf.reshape(model_fn(x), [-1])
            base = tf.concat([x[:base_rows], x[-base_rows:]], 0)
            with tf.GradientTape() as tape:
                tape.watch(base)
                y_base = tf.reshape(model_fn(base), [-1])
            return y, tape.gradient(y_base, base)

    return Evaluator(
        n_inputs,
        batch_size,
        gradient_batch_size,
        dtype,
        value,
        value_and_gradient,
        traces,
        base_rows,
        value_and_base_gradient,
    )


def sobol_evaluator(
    model_fn: Callable[[Any], Any], spec: dict[str, Any], *, dtype: str = "float32"
) -> Evaluator:
    """An evaluator sized to the Saltelli design's chunks: one compiled call evaluates a whole
    chunk (``chunk_rows * rows_per_base`` rows) and differentiates its A and B rows."""
    return make_evaluator(
        model_fn,
        spec["num_vars"],
        batch_size=spec["chunk_rows"] * spec["rows_per_base"],
        gradient_batch_size=2 * spec["chunk_rows"],
        dtype=dtype,
        base_rows=spec["chunk_rows"],
    )


def check_outputs(
    y: np.ndarray,
    x_row: Callable[[int], np.ndarray],
    names: list[str],
    where: str,
    *,
    what: str = "output",
    label: Callable[[int], str] | None = None,
) -> None:
    """Refuse non-finite model outputs (or gradients, ``what``): how many rows failed and one
    example input row, named by ``label`` (default ``row <i>``)."""
    bad = ~np.isfinite(y)
    if bad.any():
        first = int(np.flatnonzero(bad)[0])
        raise non_finite_error(
            int(bad.sum()),
            len(y),
            first,
            x_row(first),
            names,
            where,
            what=what,
            label=(label or (lambda i: f"row {i}"))(first),
        )


def non_finite_error(
    count: int,
    rows: int,
    first: int,
    x_first: np.ndarray,
    names: list[str],
    where: str,
    *,
    what: str = "output",
    label: str | None = None,
) -> SensiflowError:
    """The error for ``count`` of ``rows`` non-finite values, the first at row ``first``."""
    example = ", ".join(f"{n}={v:.6g}" for n, v in zip(names, x_first, strict=True))
    return SensiflowError(
        where,
        f"the model returned NaN or infinite {what} at {count} of {rows} rows (first: "
        f"{label or f'row {first}'}, {example}); no indices are computed from such values",
    )


def check_representable(frame: Any, dtype: str, where: str) -> None:
    """Refuse values the model's floating type cannot carry through its arithmetic.

    A value beyond the square root of the type's largest number overflows when squared (as
    in a variance), about 1.8e19 in float32; the message names the column and suggests
    float64.
    """
    limit = float(np.sqrt(np.finfo(dtype).max))
    big = frame.abs().max()
    too_big = big[big > limit]
    if len(too_big):
        column = too_big.index[0]
        raise SensiflowError(
            where,
            f"{column!r} holds values up to {too_big.iloc[0]:.3g}, too large for {dtype} "
            f"arithmetic (limit {limit:.2g}): set evaluation.dtype: float64 or rescale it",
        )


RESOLUTION_STEPS = 100


def check_resolution(y: np.ndarray, dtype: str, where: str) -> None:
    """Refuse outputs that vary by only a few rounding steps of the model's floating type.

    A float32 output of 1e6 +- 0.01 takes a handful of distinct values 0.0625 apart: indices
    computed from it would measure rounding. Outputs whose standard deviation is below
    :data:`RESOLUTION_STEPS` steps at their largest magnitude are refused (a constant output,
    standard deviation 0, is not: its indices are 0).
    """
    spread = float(np.std(y))
    step = float(np.spacing(np.asarray(np.max(np.abs(y)), dtype=dtype)))
    if 0 < spread < RESOLUTION_STEPS * step:
        raise SensiflowError(
            where,
            f"the output varies by sd {spread:.3g} around {float(np.mean(y)):.6g}, only "
            f"{spread / step:.2g} {dtype} rounding steps ({step:.3g}): its indices would "
            f"measure rounding; evaluate in float64 (evaluation.dtype; a given .keras model "
            "must be saved in float64) or remove the output's offset",
        )


@dataclass
class GradientMoments:
    """Running sums of gradients over design points (for DGSM and local statistics)."""

    n_inputs: int
    keep: int = 4096
    count: int = 0
    total: np.ndarray = field(init=False)
    total_sq: np.ndarray = field(init=False)
    total_abs: np.ndarray = field(init=False)
    sample: list[np.ndarray] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.total = np.zeros(self.n_inputs)
        self.total_sq = np.zeros(self.n_inputs)
        self.total_abs = np.zeros(self.n_inputs)

    def add(self, g: np.ndarray) -> None:
        kept = sum(len(s) for s in self.sample)
        if kept < self.keep:
            self.sample.append(g[: self.keep - kept].copy())
        g = g.astype(np.float64)
        self.count += len(g)
        self.total += g.sum(axis=0)
        self.total_sq += (g * g).sum(axis=0)
        self.total_abs += np.abs(g).sum(axis=0)

    def arrays(self) -> dict[str, np.ndarray]:
        sample = np.concatenate(self.sample) if self.sample else np.empty((0, self.n_inputs))
        return {
            "count": np.array(self.count),
            "sum": self.total,
            "sum_sq": self.total_sq,
            "sum_abs": self.total_abs,
            "sample": sample,
        }


def evaluate_sobol(
    evaluator: Evaluator,
    spec: dict[str, Any],
    problem: dict[str, Any],
    *,
    accumulator: SobolAccumulator | None = None,
    keep_outputs: bool = True,
    progress: Callable[[int], None] | None = None,
) -> tuple[np.ndarray | None, GradientMoments]:
    """Stream the Saltelli design through the model: values of every row, gradients at the
    base points (the A and B rows), and the Sobol' estimator terms, in one pass.

    Each chunk of the design is rebuilt from ``spec`` as its stacked Saltelli matrices
    (:func:`sensiflow.designs.sobol_stacks`), in the model's dtype, and evaluated in the
    evaluator's fixed-size batches. Its A and B matrices are contiguous slices, differentiated
    with the batched tape; the outputs go to ``accumulator`` as they come. With
    ``keep_outputs=False`` nothing grows with N but the running sums (and the accumulator's
    per-chunk resample counts).

    Parameters
    ----------
    evaluator : Evaluator
        Best made with ``batch_size`` = chunk_rows * rows_per_base and ``base_rows`` =
        chunk_rows: one compiled call per chunk (:meth:`Evaluator.value_and_base_gradient`).
        Otherwise the chunk goes through :meth:`Evaluator.value` and its A and B rows through
        :meth:`Evaluator.value_and_gradient`, in their own batch sizes.
    spec, problem : dict
        The design's spec and the input space.
    accumulator : SobolAccumulator, optional
        Receives each chunk's outputs (design and analysis in one process).
    keep_outputs : bool
        Return every output, in design row order (for the file the workflow writes).
    progress : callable, optional
        Called with the number of base rows done after each chunk.

    Returns
    -------
    y : ndarray of shape (rows,) or None
        Outputs in the design's row order, when ``keep_outputs``.
    moments : GradientMoments
        Gradient sums over the 2N base points.

    Raises
    ------
    SensiflowError
        When the model returns NaN or infinite outputs (the count and the first such row,
        after the whole design); nothing is accumulated from such chunks.
    """
    from sensiflow.designs import sobol_rows, sobol_stacks

    d, per_base = spec["num_vars"], spec["rows_per_base"]
    y_all = np.empty(spec["rows"]) if keep_outputs else None
    moments = GradientMoments(d)
    bad, first_bad = 0, -1

    one_call = evaluator.base_rows == spec["chunk_rows"] and (
        evaluator.batch_size == spec["chunk_rows"] * per_base
    )

    def run(stack: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        if one_call:
            return evaluator.value_and_base_gradient(stack)
        y = evaluator.value(stack.reshape(-1, d)).reshape(stack.shape[:2])
        return y, evaluator.value_and_gradient(np.concatenate([stack[0], stack[-1]]))[1]

    def take(start: int, y: np.ndarray, g: np.ndarray) -> None:
        nonlocal bad, first_bad
        n = y.shape[1]
        moments.add(g)
        finite = np.isfinite(y)
        if not finite.all():
            if first_bad < 0:
                i, j = np.unravel_index(np.argmin(finite.T), (n, per_base))
                first_bad = (start + int(i)) * per_base + int(j)
            bad += int(y.size - finite.sum())
        elif accumulator is not None and not bad:
            accumulator.add(start, y)
        if y_all is not None:  # design row order: per base row, one value per matrix
            y_all[start * per_base : (start + n) * per_base].reshape(n, per_base)[:] = y.T
        if progress is not None:
            progress(start + n)

    # TensorFlow releases the GIL while it runs, so a worker thread evaluates chunk i while
    # this thread builds chunk i + 1 and accumulates chunk i - 1: the numpy work of the
    # design and the estimators overlaps the model's. At most three chunks are alive.
    with ThreadPoolExecutor(max_workers=1) as worker:
        pending = None
        for start, stack in sobol_stacks(spec, problem, dtype=evaluator.dtype):
            job = worker.submit(run, stack)
            if pending is not None:
                take(pending[0], *pending[1].result())
            pending = (start, job)
        if pending is not None:
            take(pending[0], *pending[1].result())
    if bad:
        raise non_finite_error(
            bad,
            spec["rows"],
            first_bad,
            sobol_rows(spec, problem, [first_bad])[0],
            spec["names"],
            "model output on the Sobol' design",
        )
    return y_all, moments
