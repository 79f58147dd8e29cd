"""Saltelli and Morris designs: bit-identity with SALib, sizes, finiteness, distributions."""

import numpy as np
import pytest
from SALib.sample import sobol as salib_sobol

from sensiflow.designs import (
    check_finite,
    design_summary,
    morris_design,
    sobol_design,
    sobol_rows,
    sobol_spec,
    sobol_stacks,
)
from sensiflow.errors import SensiflowError
from sensiflow.space import derive_problem

from .conftest import problem_of


@pytest.mark.parametrize("second_order", [True, False])
@pytest.mark.parametrize("scramble", [True, False])
@pytest.mark.parametrize("chunk", [16, 100, 1024])
def test_sobol_design_is_bit_identical_to_salib(lin11, second_order, scramble, chunk):
    problem = problem_of(lin11)
    salib_problem = {k: problem[k] for k in ("num_vars", "names", "bounds")}
    expected = salib_sobol.sample(
        salib_problem, 256, calc_second_order=second_order, scramble=scramble, seed=11
    )
    spec = sobol_spec(
        problem,
        base_samples=256,
        second_order=second_order,
        scramble=scramble,
        seed=11,
        chunk_rows=chunk,
    )
    design = sobol_design(spec, problem)
    assert design.shape == expected.shape
    assert np.array_equal(design, expected)


def test_non_uniform_design_matches_salib_scaling(lin11):
    problem = derive_problem(
        None,
        lin11.input_names,
        method="function",
        quantiles=(0, 1),
        function=lin11,
        overrides={
            "x1": {"dist": "normal", "mean": 5, "sd": 0.4},
            "x2": {"dist": "lognormal", "log_mean": 1, "log_sd": 0.2},
            "x3": {"dist": "truncnormal", "lower": 0, "upper": 2, "mean": 1, "sd": 1},
        },
    )
    salib_problem = {k: problem[k] for k in ("num_vars", "names", "bounds", "dists")}
    expected = salib_sobol.sample(salib_problem, 128, calc_second_order=True, seed=3)
    spec = sobol_spec(problem, base_samples=128, second_order=True, scramble=True, seed=3)
    assert np.array_equal(sobol_design(spec, problem), expected)


def test_float32_chunks_are_the_design_cast_to_float32(lin11):
    problem = problem_of(lin11)
    spec = sobol_spec(
        problem, base_samples=128, second_order=True, scramble=True, seed=4, chunk_rows=32
    )
    stacks = [m for _, m in sobol_stacks(spec, problem, dtype="float32")]
    rows = np.concatenate([m.transpose(1, 0, 2).reshape(-1, 11) for m in stacks])
    assert rows.dtype == np.float32
    assert np.array_equal(rows, sobol_design(spec, problem).astype(np.float32))


def test_design_sizes_follow_second_order(lin11):
    problem = problem_of(lin11)
    for second_order, per_base in ((True, 24), (False, 13)):
        spec = sobol_spec(
            problem, base_samples=64, second_order=second_order, scramble=True, seed=0
        )
        assert spec["rows"] == 64 * per_base
        assert len(sobol_design(spec, problem)) == 64 * per_base


def test_sobol_rows_picks_rows_of_the_design(ishigami):
    problem = problem_of(ishigami)
    spec = sobol_spec(
        problem, base_samples=64, second_order=True, scramble=True, seed=2, chunk_rows=16
    )
    design = sobol_design(spec, problem)
    np.testing.assert_array_equal(sobol_rows(spec, problem, [0, 333, 511]), design[[0, 333, 511]])


def normal_x1(lin11):
    """LIN11's space with x1 ~ N(5, 0.4) (shared case 4)."""
    return derive_problem(
        None,
        lin11.input_names,
        method="function",
        quantiles=(0, 1),
        overrides={"x1": {"dist": "normal", "mean": 5, "sd": 0.4}},
        function=lin11,
    )


def test_unscrambled_normal_design_is_refused_before_evaluation(lin11):
    problem = normal_x1(lin11)
    spec = sobol_spec(problem, base_samples=64, second_order=False, scramble=False, seed=0)
    _, morris_x = morris_design(problem, trajectories=4, levels=4, seed=0)
    with pytest.raises(SensiflowError, match=r"sobol.scramble: input 'x1' maps to an infinite"):
        design_summary(spec, problem, morris_x)


def test_scrambled_normal_design_is_finite_with_the_right_mean(lin11):
    problem = normal_x1(lin11)
    spec = sobol_spec(problem, base_samples=1024, second_order=False, scramble=True, seed=0)
    _, morris_x = morris_design(problem, trajectories=10, levels=4, seed=0)
    rows = design_summary(spec, problem, morris_x)
    x1 = next(r for r in rows if r["design"] == "sobol" and r["input"] == "x1")
    assert x1["mean"] == pytest.approx(5.0, abs=0.02)
    assert x1["sd"] == pytest.approx(0.4, abs=0.02)
    assert np.isfinite(morris_x).all()


def test_check_finite_names_input_and_rows():
    x = np.zeros((5, 2))
    x[3, 1] = np.inf
    with pytest.raises(SensiflowError, match=r"input 'b' .* 1 design row\(s\) \(first: 13\)"):
        check_finite(x, ["a", "b"], first_row=10, field="sobol.scramble")


def test_morris_design_shape_and_unit_grid(lin11):
    problem = problem_of(lin11)
    unit, x = morris_design(problem, trajectories=8, levels=4, seed=1)
    assert unit.shape == x.shape == (8 * 12, 11)
    np.testing.assert_allclose(np.unique(unit.round(12)), [0.0, 1 / 3, 2 / 3, 1.0])
    lo, hi = np.array(problem["bounds"]).T
    np.testing.assert_allclose(x, lo + unit * (hi - lo))
