"""The config base class: declared limits, typed errors naming file and field, bounded JSON."""

from __future__ import annotations

import json
import os
from dataclasses import FrozenInstanceError, dataclass
from pathlib import Path

import pytest

from costcore.errors import ConfigError, FormatError
from costcore.frozen_config import (
    MAX_CONFIG_BYTES,
    MAX_JSON_DEPTH,
    MAX_PARAMETERS,
    FrozenConfig,
    path_name_problem,
    read_json_object,
    setting,
)


@dataclass(frozen=True)
class HeadConfig(FrozenConfig):
    """A config as the classes in costcore declare them."""

    what = "head config"
    ignored_keys = ("engine",)

    width: int = setting(256, minimum=1, maximum=8192)
    depth: int = setting(3, minimum=1, maximum=64)
    dropout: float = setting(0.1, minimum=0.0, below=1.0)
    kind: str = setting("mlp", choices=("mlp", "conv"))
    layers: tuple[int, ...] = setting((1, 2), min_length=1, max_length=4, minimum=0)
    labels: tuple[str, ...] = ()
    vocabulary: str | None = setting(None, path=True)
    scale: float | None = None
    extra: dict | None = None
    frozen: bool = False

    def validate(self) -> None:
        if self.width % 8:
            raise self.invalid("width", "must be a multiple of 8")

    def parameter_count(self) -> int:
        return self.width * self.width * self.depth


def test_defaults_are_checked_and_frozen() -> None:
    config = HeadConfig()
    assert config.layers == (1, 2) and config.to_dict()["layers"] == [1, 2]
    with pytest.raises(FrozenInstanceError):
        config.width = 8  # type: ignore[misc]
    changed = config.replace(width=64, layers=[3])
    assert changed.width == 64 and changed.layers == (3,) and config.width == 256


def test_json_round_trip(tmp_path: Path) -> None:
    config = HeadConfig(width=16, dropout=0, labels=["a", "b"], scale=2, extra={"k": [1]})
    assert config.dropout == 0.0 and isinstance(config.dropout, float)
    assert config.scale == 2.0 and isinstance(config.scale, float)  # an int where a float goes
    path = tmp_path / "head.json"
    config.write_json(path)
    assert HeadConfig.from_json_file(path) == config
    assert json.loads(path.read_text())["labels"] == ["a", "b"]


@pytest.mark.parametrize(
    ("values", "field", "message"),
    [
        ({"width": "256"}, "width", "must be an integer, not a string '256'"),
        ({"width": True}, "width", "must be an integer, not a boolean"),
        ({"width": 256.0}, "width", "must be an integer, not a number"),
        ({"width": 0}, "width", "must be at least 1, not 0"),
        ({"width": 10**4000}, "width", "of 4,001 digits"),
        ({"width": 12}, "width", "must be a multiple of 8"),
        ({"dropout": 1.0}, "dropout", "must be less than 1"),
        ({"dropout": float("inf")}, "dropout", "must be a finite number, not inf"),
        ({"dropout": float("nan")}, "dropout", "must be a finite number, not nan"),
        ({"dropout": 10**400}, "dropout", "too large a number"),
        ({"dropout": None}, "dropout", "must be a number, not null"),
        ({"kind": "rnn"}, "kind", "must be one of mlp, conv, not 'rnn'"),
        ({"frozen": 1}, "frozen", "must be true or false, not an integer 1"),
        ({"layers": 3}, "layers", "must be a list of integers, not an integer"),
        ({"layers": []}, "layers", "must have 1 to 4 entries, not 0"),
        ({"layers": [1, -1]}, "layers", "entry 2 must be at least 0, not -1"),
        ({"labels": ["a", 3]}, "labels", "entry 2 must be a string"),
        ({"vocabulary": "v" * 300}, "vocabulary", "of 300 bytes"),
        ({"vocabulary": "a\0b"}, "vocabulary", "NUL"),
        ({"vocabulary": "x" * 5000}, "vocabulary", "5,000 characters long"),
        ({"extra": [1]}, "extra", "must be an object"),
        ({"colour": "red"}, "colour", "is not a field of the head config"),
    ],
)
def test_bad_values_name_the_field(values: dict, field: str, message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        HeadConfig.from_dict(values)
    error = caught.value
    assert error.field == field and message in str(error), str(error)
    assert error.path is None and str(error).startswith(f"head config: field '{field}': ")
    assert isinstance(error, FormatError) and isinstance(error, ValueError)


def test_values_from_a_file_name_the_file(tmp_path: Path) -> None:
    path = tmp_path / "head.json"
    path.write_text(json.dumps({"width": 0, "engine": "ignored"}))
    with pytest.raises(ConfigError) as caught:
        HeadConfig.from_json_file(path)
    assert caught.value.path == path and caught.value.field == "width"
    assert str(caught.value) == f"{path}: field 'width': must be at least 1, not 0"


def test_parameter_count_is_bounded_before_anything_is_built() -> None:
    assert HeadConfig(width=8192, depth=14).parameter_count() < MAX_PARAMETERS
    with pytest.raises(ConfigError, match=r"1,073,741,824 parameters; at most 1,000,000,000"):
        HeadConfig(width=8192, depth=16)


def test_construction_in_code_is_checked_too() -> None:
    with pytest.raises(ConfigError, match="head config: field 'depth': must be at most 64"):
        HeadConfig(depth=65)


def _write(tmp_path: Path, text: str | bytes) -> Path:
    path = tmp_path / "config.json"
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


def test_reader_accepts_a_bom_and_names_syntax_errors_by_line(tmp_path: Path) -> None:
    assert read_json_object(_write(tmp_path, b'\xef\xbb\xbf{"a": 1}')) == {"a": 1}
    with pytest.raises(ConfigError) as caught:
        read_json_object(_write(tmp_path, '{\n  "a": 1,\n  "b": \n}'))
    assert caught.value.line == 4 and "config.json, line 4: not valid JSON" in str(caught.value)


def test_reader_refuses_deep_nesting_before_parsing(tmp_path: Path) -> None:
    """json.loads raises RecursionError at about 1000 levels (a traceback before the fix)."""
    path = _write(tmp_path, '{"a": ' + "[" * 100_000 + "]" * 100_000 + "}")
    with pytest.raises(ConfigError, match=f"nested deeper than {MAX_JSON_DEPTH} levels"):
        read_json_object(path)
    # brackets inside strings do not count; the limit itself is fine
    nested = "[" * (MAX_JSON_DEPTH - 1) + "]" * (MAX_JSON_DEPTH - 1)
    assert read_json_object(_write(tmp_path, '{"s": "[[[[[[", "n": ' + nested + "}"))["s"]


def test_reader_refuses_huge_integers_and_files(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="an integer with 5,000 digits"):
        read_json_object(_write(tmp_path, '{"hidden_dim": ' + "9" * 5000 + "}"))
    with pytest.raises(ConfigError, match="too big"):
        read_json_object(_write(tmp_path, '{"a": "' + "x" * MAX_CONFIG_BYTES + '"}'))


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"[1, 2]", "must be a JSON object, not a list"),
        (b"\xff\xfe{}", "not UTF-8"),
        (b"", "not valid JSON"),
    ],
)
def test_reader_refuses_what_is_not_an_object(tmp_path: Path, content: bytes, message: str):
    with pytest.raises(ConfigError, match=message):
        read_json_object(_write(tmp_path, content))


def test_reader_refuses_missing_and_special_files(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not found"):
        read_json_object(tmp_path / "absent.json")
    with pytest.raises(ConfigError, match="not a regular file"):
        read_json_object(tmp_path)
    fifo = tmp_path / "fifo.json"
    os.mkfifo(fifo)  # opening it for reading would block forever
    with pytest.raises(ConfigError, match="not a regular file"):
        read_json_object(fifo)
    with pytest.raises(ConfigError, match="cannot read"):
        read_json_object(tmp_path / ("n" * 300))  # ENAMETOOLONG, not an OSError traceback


def test_path_names() -> None:
    assert path_name_problem("text_encoder") is None
    assert path_name_problem("sub/dir/vocab.txt") is None
    assert "300 bytes" in path_name_problem("a" * 300)
    assert "bytes" in path_name_problem("é" * 200)  # 400 bytes in UTF-8
    assert path_name_problem("") and path_name_problem("a\0")
