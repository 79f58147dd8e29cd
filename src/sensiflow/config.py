"""Load and check the workflow configuration.

The schema (``schemas/config.schema.yaml``, linked from ``workflow/schemas``) gives every key a
description and a default and forbids unknown keys; :func:`validate` fills the defaults and adds
the checks a schema cannot express (powers of two, bounds in order, keys that need each other).
Every problem is reported as one line that names the file and the field.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Iterator
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema
import yaml

from sensiflow.errors import SensiflowError

DISTRIBUTION_PARAMETERS: dict[str, tuple[str, ...]] = {
    "uniform": ("lower", "upper"),
    "normal": ("mean", "sd"),
    "truncnormal": ("lower", "upper", "mean", "sd"),
    "lognormal": ("log_mean", "log_sd"),
    "triangular": ("lower", "mode", "upper"),
    "loguniform": ("lower", "upper"),
}


def load_schema() -> dict[str, Any]:
    """Return the configuration JSON schema shipped with the package."""
    text = resources.files("sensiflow").joinpath("schemas/config.schema.yaml").read_text()
    return yaml.safe_load(text)


def read_config(path: str | Path) -> dict[str, Any]:
    """Read a YAML config file and :func:`validate` it."""
    path = Path(path)
    try:
        raw = yaml.safe_load(path.read_text())
    except FileNotFoundError:
        raise SensiflowError(str(path), "config file not found") from None
    except IsADirectoryError:
        raise SensiflowError(str(path), "is a directory, not a config file") from None
    except UnicodeDecodeError:
        raise SensiflowError(str(path), "is not a UTF-8 text file") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        raise SensiflowError(str(path), f"not valid YAML{where}") from None
    return validate(raw if raw is not None else {}, source=str(path))


def validate(config: dict[str, Any], *, source: str = "config") -> dict[str, Any]:
    """Check ``config`` against the schema and the cross-field rules; return it with defaults.

    Parameters
    ----------
    config : dict
        The configuration as read from YAML (not modified).
    source : str
        Name of the file the config came from, used in error messages.

    Returns
    -------
    dict
        A deep copy with every default filled in.

    Raises
    ------
    SensiflowError
        With a one-line message ``<source>: <field>: <what is wrong>``.
    """
    if not isinstance(config, dict):
        raise SensiflowError(source, "the config must be a mapping of keys to values")
    schema = load_schema()
    validator = _VALIDATOR(schema)
    errors = sorted(validator.iter_errors(config), key=lambda e: (len(e.path), list(e.path)))
    if errors:
        raise SensiflowError(source, _describe(errors[0]))
    filled = copy.deepcopy(config)
    _infer_model_source(filled, source)
    _fill_defaults(filled, schema, schema)
    _check_rules(filled, source)
    return filled


MODEL_SUFFIXES = {".keras": "keras", ".h5": "keras", ".mat": "matlab", ".json": "matlab"}


def _infer_model_source(cfg: dict[str, Any], source: str) -> None:
    """``model: {path: ...}`` without a source analyses that file: keras or matlab by suffix."""
    model = cfg.get("model") or {}
    if "source" in model or not model.get("path"):
        return
    suffix = Path(model["path"]).suffix.lower()
    if suffix not in MODEL_SUFFIXES:
        raise SensiflowError(
            source,
            f"model.path: cannot tell the kind of model from {model['path']!r}; set "
            "model.source: keras (.keras, .h5) or matlab (.mat, .json)",
        )
    model["source"] = MODEL_SUFFIXES[suffix]


def _field(path: Any) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(top level)"


# JSON Schema counts 5.0 as an integer; Python's range() and numpy's seeds do not
_VALIDATOR = jsonschema.validators.extend(
    jsonschema.Draft202012Validator,
    type_checker=jsonschema.Draft202012Validator.TYPE_CHECKER.redefine(
        "integer", lambda _, x: isinstance(x, int) and not isinstance(x, bool)
    ),
)


def _describe(error: jsonschema.ValidationError) -> str:
    field = _field(error.absolute_path)
    if error.validator == "additionalProperties":
        allowed = sorted(error.schema.get("properties", {}))
        extra = sorted(set(error.instance) - set(allowed))
        hint = f" (known keys: {', '.join(allowed)})" if allowed else ""
        return f"{field}: unknown key {', '.join(repr(k) for k in extra)}{hint}"
    if error.validator == "enum":
        options = ", ".join(repr(v) for v in error.validator_value)
        return f"{field}: {error.instance!r} is not one of {options}"
    if error.validator == "type":
        hint = ""
        if isinstance(error.instance, str) and _looks_numeric(error.instance):
            hint = " (YAML reads a number like 1e-9 as text: write 1.0e-9)"
        elif isinstance(error.instance, float) and error.validator_value == "integer":
            hint = " (write a whole number without a decimal point)"
        return f"{field}: {error.instance!r} is not of type {error.validator_value}{hint}"
    return f"{field}: {error.message}"


def _looks_numeric(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _fill_defaults(node: Any, schema: dict[str, Any], root: dict[str, Any]) -> None:
    if "$ref" in schema:
        schema = _resolve(schema["$ref"], root)
    if not isinstance(node, dict):
        return
    for key, sub in schema.get("properties", {}).items():
        if "$ref" in sub:
            sub = {**_resolve(sub["$ref"], root), **{k: v for k, v in sub.items() if k != "$ref"}}
        if key not in node and "default" in sub:
            node[key] = copy.deepcopy(sub["default"])
        if key in node:
            _fill_defaults(node[key], sub, root)


def _resolve(ref: str, root: dict[str, Any]) -> dict[str, Any]:
    node: Any = root
    for part in ref.lstrip("#/").split("/"):
        node = node[part]
    return node


def _is_power_of_two(n: int) -> bool:
    return n > 0 and n & (n - 1) == 0


def _nearest_power_of_two(n: int) -> int:
    lower = 2 ** math.floor(math.log2(n))
    return lower if n - lower <= 2 * lower - n else 2 * lower


def _check_rules(cfg: dict[str, Any], source: str) -> None:
    def fail(field: str, message: str) -> None:
        raise SensiflowError(source, f"{field}: {message}")

    for path, value in _numbers(cfg, ()):
        if not math.isfinite(value):
            fail(_field(path), f"{value} is not a finite number")
    n = cfg["sobol"]["base_samples"]
    if not _is_power_of_two(n):
        fail(
            "sobol.base_samples", f"{n} is not a power of two (nearest: {_nearest_power_of_two(n)})"
        )
    if cfg["morris"]["levels"] % 2:
        fail("morris.levels", f"{cfg['morris']['levels']} is odd; Morris needs an even number")
    lo, hi = cfg["space"]["quantiles"]
    if not 0 <= lo < hi <= 1:
        fail("space.quantiles", f"[{lo}, {hi}] must satisfy 0 <= lower < upper <= 1")

    function = cfg["function"]
    if function is not None:
        _check_function(function, fail)
    data, model = cfg["data"], cfg["model"]
    if data["source"] == "function" and function is None:
        fail("data.source", "'function' needs a `function:` section naming the function")
    if model["source"] == "function" and function is None:
        fail("model.source", "'function' needs a `function:` section naming the function")
    if cfg["space"]["method"] == "function" and function is None:
        fail("space.method", "'function' needs a `function:` section naming the function")
    if data["source"] == "table" and data["path"] is not None and not data["target"]:
        fail("data.target", f"required when data.path is set ({data['path']})")
    if data["source"] == "function" and data["path"] is not None:
        fail("data.path", "is set, but data.source 'function' generates the rows; remove one")
    if len(data["sep"]) != 1:
        fail("data.sep", f'{data["sep"]!r} must be one character (a tab: "\\t" in quotes)')
    if data["inputs"] is not None and data["target"] in data["inputs"]:
        fail("data.inputs", f"lists the target {data['target']!r}")
    if model["source"] == "train" and model["path"]:
        fail(
            "model.path",
            f"is set, but model.source 'train' trains a new network; set model.source: "
            f"keras or matlab to analyse {model['path']}",
        )
    if model["source"] in ("keras", "matlab") and not model["path"]:
        fail("model.path", f"required when model.source is {model['source']}")
    if model["source"] != "train" and len(model["seeds"]) > 1:
        fail("model.seeds", f"several seeds need model.source 'train', not {model['source']!r}")
    for key in ("input_scaling", "output_scaling"):
        scaling = model[key]
        if scaling is None:
            continue
        if model["source"] == "train":
            fail(f"model.{key}", "applies to a given model; a trained network holds its own")
        scales = scaling["scale"] if isinstance(scaling["scale"], list) else [scaling["scale"]]
        if any(s == 0 for s in scales):
            fail(f"model.{key}.scale", "a scale of 0 would divide by zero")
        if key == "input_scaling" and len(scaling["center"]) != len(scaling["scale"]):
            fail("model.input_scaling", "center and scale must have one value per input")
    for name, dist in cfg["space"]["inputs"].items():
        check_distribution(dist, f"space.inputs.{name}", fail)
    names = [p["name"] for p in cfg["local"]["operating_points"]]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        fail("local.operating_points", f"duplicate point name(s): {', '.join(dupes)}")


def _numbers(node: Any, path: tuple) -> Iterator[tuple[tuple, float]]:
    """Every float in a nested config, with its path."""
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _numbers(value, (*path, key))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from _numbers(value, (*path, i))
    elif isinstance(node, float):
        yield path, node


def _check_function(function: dict[str, Any], fail: Any) -> None:
    name = function["name"]
    allowed = {
        "linear": {"coefficients", "bounds"},
        "ishigami": {"a", "b"},
        "sobol_g": {"a"},
        "product": {"bounds"},
    }[name]
    extra = sorted(set(function) - allowed - {"name"})
    if extra:
        fail(f"function.{extra[0]}", f"not a parameter of the {name} function")
    if name == "linear":
        coef, bounds = function.get("coefficients"), function.get("bounds")
        if coef is None or bounds is None:
            fail("function", "linear needs `coefficients` and `bounds`")
        if len(coef) != len(bounds):
            fail("function.bounds", f"{len(bounds)} bounds for {len(coef)} coefficients")
    if name == "product" and "bounds" in function and len(function["bounds"]) != 2:
        fail("function.bounds", "product takes exactly two inputs")
    for i, (lo, hi) in enumerate(function.get("bounds") or []):
        if not lo < hi:
            fail(f"function.bounds[{i}]", f"lower {lo} must be below upper {hi}")
    if name == "ishigami" and isinstance(function.get("a", 7.0), list):
        fail("function.a", "ishigami takes a single number")
    if name == "sobol_g":
        a = function.get("a")
        if not isinstance(a, list) or len(a) < 1:
            fail("function.a", "sobol_g needs a list with one value per input")
        if any(v < 0 for v in a):
            fail("function.a", "sobol_g coefficients must be >= 0")


def check_distribution(dist: dict[str, Any], field: str, fail: Any) -> None:
    """Check one distribution's named parameters; ``fail(field, message)`` raises."""
    kind = dist["dist"]
    needed = DISTRIBUTION_PARAMETERS[kind]
    missing = [p for p in needed if p not in dist]
    extra = sorted(set(dist) - set(needed) - {"dist"})
    if missing:
        fail(field, f"{kind} needs {', '.join(needed)}; missing {', '.join(missing)}")
    if extra:
        fail(f"{field}.{extra[0]}", f"not a parameter of {kind} (it takes {', '.join(needed)})")
    values = {k: dist[k] for k in needed}
    if any(not math.isfinite(v) for v in values.values()):
        fail(field, "parameters must be finite numbers")
    if (
        "lower" in values
        and "upper" in values
        and not math.isfinite(values["upper"] - values["lower"])
    ):
        fail(field, "upper - lower overflows to infinity; use a narrower range")
    if "lower" in values and "upper" in values and not values["lower"] < values["upper"]:
        fail(field, f"lower {values['lower']} must be below upper {values['upper']}")
    if kind in ("normal", "truncnormal") and values["sd"] <= 0:
        fail(f"{field}.sd", f"must be > 0, got {values['sd']}")
    if kind == "lognormal" and values["log_sd"] <= 0:
        fail(f"{field}.log_sd", f"must be > 0, got {values['log_sd']}")
    if kind == "loguniform" and values["lower"] <= 0:
        fail(f"{field}.lower", f"loguniform needs bounds > 0, got {values['lower']}")
    if kind == "triangular" and not values["lower"] <= values["mode"] <= values["upper"]:
        fail(f"{field}.mode", f"{values['mode']} must lie within [lower, upper]")


def check_files(cfg: dict[str, Any], *, source: str = "config") -> None:
    """Refuse a config whose data or model file does not exist (before any step runs).

    Relative paths are taken from the working directory, where snakemake runs.
    """
    files = []
    if cfg["data"]["source"] == "table" and cfg["data"]["path"]:
        files.append(("data.path", cfg["data"]["path"]))
    if cfg["model"]["source"] in ("keras", "matlab") and cfg["model"]["path"]:
        files.append(("model.path", cfg["model"]["path"]))
    for field, name in files:
        path = Path(name)
        if not path.is_file():
            what = "is a directory, not a file" if path.is_dir() else "file not found"
            raise SensiflowError(
                source, f"{field}: {what}: {name} (relative paths start at {Path.cwd()})"
            )


def model_ids(cfg: dict[str, Any]) -> list[str]:
    """Names of the models the workflow analyses (one per training seed, or one given model)."""
    source = cfg["model"]["source"]
    if source == "train":
        return [f"seed{s}" for s in cfg["model"]["seeds"]]
    return [source]
