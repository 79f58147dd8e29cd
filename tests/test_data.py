"""Loading, checking and splitting tables."""

import numpy as np
import pandas as pd
import pytest

from sensiflow import data
from sensiflow.errors import SensiflowError


def test_bundled_wine_table_is_verified_and_complete():
    assert data.sha256(data.bundled_wine_path()) == data.WINE_SHA256
    table = data.load_bundled_wine()
    assert table.frame.shape == (1599, 12)
    assert table.target == "quality" and len(table.inputs) == 11
    assert table.frame.dtypes.eq(np.float64).all()


def test_duplicate_rows_never_straddle_the_split():
    table = data.load_bundled_wine()
    assert table.frame.duplicated().sum() == 240
    train, test = data.split_train_test(table, test_fraction=0.2, seed=0)
    assert len(train) + len(test) == 1599
    assert abs(len(test) - 320) <= 5
    assert len(train.merge(test, how="inner")) == 0


def test_split_depends_on_seed_only():
    table = data.load_bundled_wine()
    a = data.split_train_test(table, test_fraction=0.2, seed=3)[1]
    b = data.split_train_test(table, test_fraction=0.2, seed=3)[1]
    c = data.split_train_test(table, test_fraction=0.2, seed=4)[1]
    pd.testing.assert_frame_equal(a, b)
    assert not a.equals(c)


def test_integer_columns_become_float(tmp_path):
    path = tmp_path / "counts.csv"
    rng = np.random.default_rng(0)
    pd.DataFrame(
        {"k": rng.integers(0, 10, 50), "m": rng.integers(0, 10, 50), "y": rng.normal(size=50)}
    ).to_csv(path, index=False)
    table = data.load_table(path, sep=",", target="y")
    assert table.frame.dtypes.eq(np.float64).all()


def test_function_data_follow_the_function(lin11):
    table = data.generate_function_table(lin11, rows=500, noise_sd=0.0, seed=1)
    x = table.frame[table.inputs].to_numpy()
    np.testing.assert_allclose(table.frame["y"], lin11(x))
    assert (x >= lin11.bounds[:, 0]).all() and (x <= lin11.bounds[:, 1]).all()


def test_strongly_correlated_inputs_are_reported():
    rng = np.random.default_rng(2)
    x1 = rng.uniform(0, 1, 5000)
    frame = pd.DataFrame(
        {"x1": x1, "x2": x1 + rng.normal(0, 0.01, 5000), "x3": rng.uniform(0, 1, 5000)}
    )
    frame["y"] = frame["x1"] + frame["x2"]
    table = data.Table(frame, ["x1", "x2", "x3"], "y", "test", [])
    train, test = data.split_train_test(table, test_fraction=0.2, seed=0)
    strong = data.summarise(table, train, test)["strong_correlations"]
    assert [p["inputs"] for p in strong] == [["x1", "x2"]]


@pytest.mark.parametrize(
    ("content", "kwargs", "words"),
    [
        ("a;b;y\n1;2;3\n", {}, "single column"),
        ("a,a,y\n1,2,3\n", {}, "duplicate column name(s): a"),
        ("a,b,y\n", {}, "no data rows"),
        ("", {}, "empty"),
        ("a,b\n1,2\n", {}, "target column 'y' not found"),
        ("a,b,y\n1,x,3\n2,3,4\n", {}, "non-numeric column(s): 'b' (line 2: 'x')"),
        ("a,b,y\n1,,3\n2,3,4\n", {}, "1 row(s) have empty, NaN or infinite cells"),
        ("a,b,y\n1,5,3\n2,5,4\n", {}, "input column 'b' is constant"),
        ("a,b,y\n1,5,3\n2,5,4\n", {"inputs": ["a", "c"]}, "input column(s) 'c' not found"),
    ],
)
def test_bad_tables_are_refused_in_one_line(tmp_path, content, kwargs, words):
    path = tmp_path / "bad.csv"
    path.write_text(content)
    with pytest.raises(SensiflowError) as err:
        data.load_table(path, sep=",", target="y", **kwargs)
    assert str(err.value).startswith(str(path))
    assert words in str(err.value)
    assert "\n" not in str(err.value)
