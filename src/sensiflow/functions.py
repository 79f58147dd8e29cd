"""Analytic benchmark functions with exact sensitivity indices.

Each function is written once over an array namespace, so the same formula runs in NumPy (to
generate data) and in TensorFlow (inside a gradient tape, in place of a network). Exact values
are those of the uniform input distributions on each function's own domain.

References: Ishigami & Homma (1990); Sobol' (1993) and Saltelli et al., *Global Sensitivity
Analysis: The Primer* (2008), for the G function; Sobol' & Kucherenko (2009) for DGSM.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

import numpy as np

NUMPY_OPS = SimpleNamespace(
    sin=np.sin,
    cos=np.cos,
    abs=np.abs,
    sum=lambda a: np.sum(a, axis=1),
    prod=lambda a: np.prod(a, axis=1),
    stack=lambda cols: np.stack(cols, axis=1),
    const=np.asarray,
)


def tensorflow_ops(dtype: Any) -> SimpleNamespace:
    """Array namespace of TensorFlow ops for :meth:`Function.apply` (imports TensorFlow)."""
    import tensorflow as tf

    return SimpleNamespace(
        sin=tf.sin,
        cos=tf.cos,
        abs=tf.abs,
        sum=lambda a: tf.reduce_sum(a, axis=1),
        prod=lambda a: tf.reduce_prod(a, axis=1),
        stack=lambda cols: tf.stack(cols, axis=1),
        const=lambda v: tf.constant(v, dtype=dtype),
    )


@dataclass(frozen=True)
class Function:
    """An analytic function of independent uniform inputs.

    Attributes
    ----------
    name : str
        ``linear``, ``ishigami``, ``sobol_g`` or ``product``.
    params : dict
        The function's parameters (coefficients, bounds, a, b).
    bounds : ndarray of shape (n_inputs, 2)
        The uniform domain.
    """

    name: str
    params: dict
    bounds: np.ndarray

    @property
    def n_inputs(self) -> int:
        return len(self.bounds)

    @property
    def input_names(self) -> list[str]:
        return [f"x{i + 1}" for i in range(self.n_inputs)]

    def apply(self, x: Any, ops: SimpleNamespace = NUMPY_OPS) -> Any:
        """Evaluate on rows ``x`` of shape (n, n_inputs) with the array namespace ``ops``."""
        p = self.params
        if self.name == "linear":
            return ops.sum(x * ops.const(np.asarray(p["coefficients"], dtype=float)))
        if self.name == "ishigami":
            x1, x2, x3 = x[:, 0], x[:, 1], x[:, 2]
            return ops.sin(x1) + p["a"] * ops.sin(x2) ** 2 + p["b"] * x3**4 * ops.sin(x1)
        if self.name == "sobol_g":
            a = ops.const(np.asarray(p["a"], dtype=float))
            return ops.prod((ops.abs(4.0 * x - 2.0) + a) / (1.0 + a))
        return x[:, 0] * x[:, 1]  # product

    def __call__(self, x: np.ndarray) -> np.ndarray:
        return self.apply(np.asarray(x, dtype=float))

    def gradient(self, x: np.ndarray) -> np.ndarray:
        """Closed-form gradient, ndarray of shape (n, n_inputs)."""
        x = np.asarray(x, dtype=float)
        p = self.params
        if self.name == "linear":
            return np.broadcast_to(np.asarray(p["coefficients"], float), x.shape).copy()
        if self.name == "ishigami":
            a, b = p["a"], p["b"]
            x1, x2, x3 = x[:, 0], x[:, 1], x[:, 2]
            return np.stack(
                [np.cos(x1) * (1 + b * x3**4), a * np.sin(2 * x2), 4 * b * x3**3 * np.sin(x1)],
                axis=1,
            )
        if self.name == "sobol_g":
            a = np.asarray(p["a"], float)
            g = (np.abs(4 * x - 2) + a) / (1 + a)
            dg = 4 * np.sign(4 * x - 2) / (1 + a)
            out = np.empty_like(x)
            for i in range(x.shape[1]):
                out[:, i] = dg[:, i] * np.prod(np.delete(g, i, axis=1), axis=1)
            return out
        return np.stack([x[:, 1], x[:, 0]], axis=1)

    def indices(self) -> dict[str, Any]:
        """Exact variance, S1, ST (arrays) and S2 (dict keyed by input-index pairs)."""
        return _EXACT[self.name](self)

    def dgsm(self) -> np.ndarray:
        """Exact nu_i = E[(dy/dx_i)^2] under the uniform inputs."""
        return _DGSM[self.name](self)


def make_function(spec: dict[str, Any]) -> Function:
    """Build a :class:`Function` from the config's ``function`` section (already validated)."""
    name = spec["name"]
    if name == "linear":
        params = {"coefficients": [float(c) for c in spec["coefficients"]]}
        bounds = spec["bounds"]
    elif name == "ishigami":
        params = {"a": float(spec.get("a", 7.0)), "b": float(spec.get("b", 0.1))}
        bounds = [[-math.pi, math.pi]] * 3
    elif name == "sobol_g":
        params = {"a": [float(v) for v in spec["a"]]}
        bounds = [[0.0, 1.0]] * len(spec["a"])
    else:
        params = {}
        bounds = spec.get("bounds", [[-1.0, 1.0], [-1.0, 1.0]])
    return Function(name, params, np.asarray(bounds, dtype=float))


def _uniform_moments(bounds: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    lo, hi = bounds[:, 0], bounds[:, 1]
    return (lo + hi) / 2, (hi - lo) ** 2 / 12


def _linear(f: Function) -> dict[str, Any]:
    c = np.asarray(f.params["coefficients"])
    _, var_x = _uniform_moments(f.bounds)
    parts = c**2 * var_x
    total = parts.sum()
    s = parts / total if total > 0 else np.zeros_like(parts)
    pairs = {pair: 0.0 for pair in itertools.combinations(range(f.n_inputs), 2)}
    return {"variance": total, "S1": s, "ST": s.copy(), "S2": pairs}


def _ishigami(f: Function) -> dict[str, Any]:
    a, b = f.params["a"], f.params["b"]
    pi = math.pi
    v1 = 0.5 * (1 + b * pi**4 / 5) ** 2
    v2 = a**2 / 8
    v13 = 8 * b**2 * pi**8 / 225
    total = v1 + v2 + v13
    return {
        "variance": total,
        "S1": np.array([v1, v2, 0.0]) / total,
        "ST": np.array([v1 + v13, v2, v13]) / total,
        "S2": {(0, 1): 0.0, (0, 2): v13 / total, (1, 2): 0.0},
    }


def _sobol_g(f: Function) -> dict[str, Any]:
    a = np.asarray(f.params["a"])
    v = 1.0 / (3.0 * (1.0 + a) ** 2)
    total = np.prod(1 + v) - 1
    st = np.array([v[i] * np.prod(np.delete(1 + v, i)) for i in range(len(v))]) / total
    pairs = {(i, j): v[i] * v[j] / total for i, j in itertools.combinations(range(len(v)), 2)}
    return {"variance": total, "S1": v / total, "ST": st, "S2": pairs}


def _product(f: Function) -> dict[str, Any]:
    mean, var = _uniform_moments(f.bounds)
    v1, v2, v12 = var[0] * mean[1] ** 2, var[1] * mean[0] ** 2, var[0] * var[1]
    total = v1 + v2 + v12
    return {
        "variance": total,
        "S1": np.array([v1, v2]) / total,
        "ST": np.array([v1 + v12, v2 + v12]) / total,
        "S2": {(0, 1): v12 / total},
    }


def _dgsm_linear(f: Function) -> np.ndarray:
    return np.asarray(f.params["coefficients"]) ** 2


def _dgsm_ishigami(f: Function) -> np.ndarray:
    a, b = f.params["a"], f.params["b"]
    pi = math.pi
    # E[cos^2 x1] = 1/2, E[(1 + b x3^4)^2] = 1 + 2b pi^4/5 + b^2 pi^8/9, E[sin^2 2x2] = 1/2,
    # E[x3^6] = pi^6/7, E[sin^2 x1] = 1/2
    nu1 = 0.5 * (1 + 2 * b * pi**4 / 5 + b**2 * pi**8 / 9)
    nu2 = a**2 / 2
    nu3 = 16 * b**2 * pi**6 / 7 * 0.5
    return np.array([nu1, nu2, nu3])


def _dgsm_sobol_g(f: Function) -> np.ndarray:
    a = np.asarray(f.params["a"])
    second_moment = 1 + 1 / (3 * (1 + a) ** 2)  # E[g_j^2]
    deriv_sq = 16 / (1 + a) ** 2  # (dg_i/dx_i)^2, constant
    return np.array([deriv_sq[i] * np.prod(np.delete(second_moment, i)) for i in range(len(a))])


def _dgsm_product(f: Function) -> np.ndarray:
    mean, var = _uniform_moments(f.bounds)
    second = var + mean**2
    return np.array([second[1], second[0]])


_EXACT = {"linear": _linear, "ishigami": _ishigami, "sobol_g": _sobol_g, "product": _product}
_DGSM = {
    "linear": _dgsm_linear,
    "ishigami": _dgsm_ishigami,
    "sobol_g": _dgsm_sobol_g,
    "product": _dgsm_product,
}
