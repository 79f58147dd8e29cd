import pytest
import yaml

from sensiflow.config import read_config, validate
from sensiflow.errors import SensiflowError


def test_defaults_fill_every_section():
    cfg = validate({})
    assert cfg["sobol"]["base_samples"] == 16384
    assert cfg["model"]["seeds"] == [42]
    assert cfg["model"]["hidden_units"] == 15 and cfg["model"]["activation"] == "tanh"
    assert cfg["data"]["test_fraction"] == 0.2


def test_shipped_config_is_valid():
    cfg = read_config("config.yaml")
    assert cfg["data"]["path"] is None


@pytest.mark.parametrize(
    ("config", "field", "words"),
    [
        ({"sobol": {"base_samples": 1000}}, "sobol.base_samples", "nearest: 1024"),
        ({"sobol": {"base_smaples": 1024}}, "sobol", "unknown key 'base_smaples'"),
        ({"colour": 1}, "(top level)", "unknown key 'colour'"),
        ({"sobol": {"base_samples": 2}}, "sobol.base_samples", "minimum of 16"),
        ({"model": {"activation": "swish"}}, "model.activation", "is not one of"),
        ({"morris": {"levels": 5}}, "morris.levels", "odd"),
        ({"data": {"path": "x.csv"}}, "data.target", "required"),
        ({"model": {"source": "keras"}}, "model.path", "required"),
        (
            {"space": {"inputs": {"a": {"dist": "uniform", "lower": 2, "upper": 1}}}},
            "space.inputs.a",
            "below upper",
        ),
    ],
)
def test_bad_config_names_the_field(config, field, words):
    with pytest.raises(SensiflowError) as err:
        validate(config, source="my.yaml")
    message = str(err.value)
    assert message.startswith(f"my.yaml: {field}")
    assert words in message
    assert "\n" not in message


def test_read_config_reports_file(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text(yaml.safe_dump({"sobol": {"resamples": -1}}))
    with pytest.raises(SensiflowError, match=rf"^{path}: sobol.resamples"):
        read_config(path)


def test_missing_data_or_model_file_is_refused_before_any_step(tmp_path, monkeypatch):
    from sensiflow.config import check_files

    monkeypatch.chdir(tmp_path)
    (tmp_path / "d.csv").write_text("a,y\n1,2\n")
    check_files(validate({"data": {"path": "d.csv", "target": "y"}}), source="c.yaml")
    with pytest.raises(SensiflowError, match=r"^c.yaml: data.path: file not found: nosuch.csv"):
        check_files(validate({"data": {"path": "nosuch.csv", "target": "y"}}), source="c.yaml")
    with pytest.raises(SensiflowError, match=r"^c.yaml: model.path: is a directory"):
        check_files(validate({"model": {"source": "keras", "path": "."}}), source="c.yaml")
