"""Morris elementary effects on exact cases."""

import numpy as np
import pytest

from sensiflow.designs import morris_design
from sensiflow.morris import morris_indices

from .conftest import LIN11_BOUNDS, LIN11_COEF, problem_of


@pytest.mark.parametrize("levels", [4, 6])
def test_lin11_mu_is_coefficient_times_range(lin11, levels):
    unit, x = morris_design(problem_of(lin11), trajectories=20, levels=levels, seed=2)
    table = morris_indices(unit, lin11(x), lin11.input_names, levels=levels, seed=2)
    width = np.diff(LIN11_BOUNDS, axis=1).ravel()
    np.testing.assert_allclose(table["mu"], np.array(LIN11_COEF) * width, atol=1e-9)
    np.testing.assert_allclose(table["mu_star"], np.abs(LIN11_COEF) * width, atol=1e-9)
    np.testing.assert_allclose(table["sigma"], 0, atol=1e-9)


def test_ishigami_x2_mu_star_is_exact(ishigami):
    unit, x = morris_design(problem_of(ishigami), trajectories=30, levels=4, seed=4)
    table = morris_indices(unit, ishigami(x), ishigami.input_names, levels=4, seed=4)
    assert table.loc[1, "mu_star"] == pytest.approx(7.875, abs=1e-9)


def test_constant_output_gives_zeros(lin11):
    unit, x = morris_design(problem_of(lin11), trajectories=5, levels=4, seed=0)
    table = morris_indices(unit, np.ones(len(x)), lin11.input_names, levels=4)
    assert (table[["mu", "mu_star", "sigma", "mu_star_conf"]] == 0).all().all()
