"""Loading, checking and splitting tables."""

import os
import re

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


GOOD_ROWS = [[1.5, 2.0, 3.25], [2.0, -3.0, 5.0], [4.0, 1e-3, 2.0]]


@pytest.mark.parametrize(
    ("text", "sep"),
    [
        ('"a","b","y"\n"1.5","2","3.25"\n"2","-3","5"\n"4","1e-3","2"\n', ","),
        ("\ufeffa,b,y\n1.5,2,3.25\n2,-3,5\n4,1e-3,2\n", ","),  # byte-order mark
        (" a , b ,y \n 1.5 , 2 ,3.25\n2,-3 ,5\n4,1e-3,2\n", ","),  # spaces around everything
        ("a,b,y\r\n1.5,2,3.25\r\n2,-3,5\r\n4,1e-3,2\r\n", ","),  # Windows line endings
        ("a\tb\ty\n1.5\t2\t3.25\n\n2\t-3\t5\n4\t1e-3\t2\n\n", "\t"),  # tabs, blank lines
        ("a;b;y;\n1.5;2;3.25;\n2;-3;5;\n4;1e-3;2;\n", ";"),  # trailing separators
    ],
)
def test_common_csv_dialects_give_the_same_table(tmp_path, text, sep):
    path = tmp_path / "t.csv"
    path.write_bytes(text.encode())
    table = data.load_table(path, sep=sep, target="y")
    assert table.inputs == ["a", "b"]
    np.testing.assert_array_equal(table.frame.to_numpy(), GOOD_ROWS)


def test_quoted_names_may_hold_the_separator(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text('"flow, l/min",b,y\n1,2,3\n2,3,5\n4,1,2\n')
    assert data.load_table(path, sep=",", target="y").inputs == ["flow, l/min", "b"]


def test_line_numbers_are_the_files_own(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("a,b,y\n1,2,3\n\n2,3,4\n3,,5\n4,5,6\n5,6,NA\n")
    with pytest.raises(SensiflowError) as err:
        data.load_table(path, sep=",", target="y")
    assert "2 row(s) have empty, NaN or infinite cells (lines 5, 7; columns: b (1), y (1))" in str(
        err.value
    )


def test_options_drop_text_columns_and_incomplete_rows_and_say_so(tmp_path):
    rng = np.random.default_rng(3)
    frame = pd.DataFrame(
        {"a": rng.normal(size=30), "site": ["north", "south"] * 15, "y": rng.normal(size=30)}
    ).astype(object)
    frame.loc[[4, 11], "a"] = ["", "inf"]
    path = tmp_path / "t.csv"
    frame.to_csv(path, index=False)
    with pytest.raises(SensiflowError, match=r"'site' \(line 2: 'north'\); set data.drop_non"):
        data.load_table(path, sep=",", target="y")
    with pytest.raises(SensiflowError, match=r"lines 6, 13; columns: a \(2\)\); set data.drop_m"):
        data.load_table(path, sep=",", target="y", drop_non_numeric=True)
    table = data.load_table(
        path, sep=",", target="y", drop_non_numeric=True, drop_missing_rows=True
    )
    assert table.inputs == ["a"] and len(table.frame) == 28
    assert table.notes == [
        "dropped non-numeric column(s): site",
        "dropped 2 row(s) with empty, NaN or infinite cells (lines 6, 13; columns: a (2))",
    ]
    expected = np.delete(np.arange(30), [4, 11])
    np.testing.assert_array_equal(table.frame["y"], frame["y"].to_numpy(float)[expected])


def test_text_in_a_listed_input_or_the_target_is_never_dropped(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("a,b,y\n1,x,3\n2,3,4\n3,1,bad\n")
    with pytest.raises(SensiflowError) as err:
        data.load_table(path, sep=",", target="y", drop_non_numeric=True)
    assert "'y' (line 4: 'bad')" in str(err.value) and "drop_non_numeric" not in str(err.value)
    with pytest.raises(SensiflowError, match=r"non-numeric column\(s\): 'b' \(line 2: 'x'\); 'y'"):
        data.load_table(path, sep=",", target="y", inputs=["a", "b"], drop_non_numeric=True)


@pytest.mark.parametrize(
    ("content", "sep", "words"),
    [
        ("a,b,y\n1,2,3,4\n2,3,5\n", ",", "line 2 has 4 fields but the header has 3"),
        ("a,b,y\n1,2,3\n2,3\n", ",", "line 3 has 2 fields but the header has 3"),
        (",a,y\n0,1,3\n1,2,5\n", ",", "column 1 has no name in the header (a row index?)"),
        ("a;b;y\n1,5;2;3\n2,5;3;5\n", ";", "decimal commas?"),
        ("a\tb\ty\n1\t2\t3\n", ",", "is the separator '\\t'? set data.sep"),
        ("a,b,y\n1,2,3\n", "::", "the separator '::' must be one character (data.sep)"),
        ("a,b,y\nNA,NA,NA\n", ",", "no complete row is left"),
    ],
)
def test_more_bad_tables(tmp_path, content, sep, words):
    path = tmp_path / "bad.csv"
    path.write_text(content)
    with pytest.raises(SensiflowError) as err:
        data.load_table(path, sep=sep, target="y", drop_missing_rows="no complete" in words)
    assert str(err.value).startswith(f"{path}: ") and "\n" not in str(err.value)
    assert words in str(err.value)


def test_unreadable_paths(tmp_path):
    (tmp_path / "dir.csv").mkdir()
    (tmp_path / "latin1.csv").write_bytes("a,b\xe9,y\n1,2,3\n".encode("latin-1"))
    cases = {
        "dir.csv": "is a directory, not a CSV file (data.path)",
        "missing.csv": "file not found (data.path)",
        "latin1.csv": "is not a UTF-8 text file",
    }
    for name, words in cases.items():
        with pytest.raises(SensiflowError, match=rf"^{tmp_path / name}: {re.escape(words)}"):
            data.load_table(tmp_path / name, sep=",", target="y")


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads files whatever their permissions")
def test_a_file_without_read_permission(tmp_path):
    path = tmp_path / "locked.csv"
    path.write_text("a,b,y\n1,2,3\n")
    path.chmod(0)
    with pytest.raises(SensiflowError, match="cannot be read: permission denied"):
        data.load_table(path, sep=",", target="y")


def test_too_few_rows_for_the_split(tmp_path):
    path = tmp_path / "t.csv"
    rng = np.random.default_rng(0)
    pd.DataFrame(rng.normal(size=(12, 3)), columns=["a", "b", "y"]).to_csv(path, index=False)
    table = data.load_table(path, sep=",", target="y")
    with pytest.raises(SensiflowError) as err:
        data.split_train_test(table, test_fraction=0.2, seed=0)
    assert str(err.value) == (
        f"{path}: 12 rows are too few to split (data.test_fraction 0.2: 10 training and 2 "
        "test rows; need at least 10 and 3)"
    )
