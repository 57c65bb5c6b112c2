"""The 17 attribute definitions and the attributes.txt line."""

from __future__ import annotations

import numpy as np
import pytest

from costcore.attributes import (
    ATTRIBUTE_CODES,
    ATTRIBUTE_COUNT,
    ATTRIBUTES,
    attribute,
    brightness_level,
    format_attributes_line,
    length_level,
    parse_attributes_line,
    validate_attributes,
)

DESIGN_ORDER = [
    "CM",
    "VC",
    "PO",
    "FO",
    "OV",
    "ROT",
    "DEF",
    "SD",
    "IV",
    "MB",
    "NAO",
    "PTI",
    "BRI",
    "FM",
    "SV",
    "ARV",
    "LEN",
]


def test_order_and_indices_follow_design():
    assert ATTRIBUTE_COUNT == 17
    assert list(ATTRIBUTE_CODES) == DESIGN_ORDER
    assert [a.index for a in ATTRIBUTES] == list(range(17))


def test_values_and_labels():
    for code in DESIGN_ORDER:
        definition = attribute(code)
        assert definition.name and definition.definition
        if code in ("BRI", "LEN"):
            continue
        if code == "NAO":
            assert definition.label(0) == "natural"
            assert definition.label(1) == "artificial"
        else:
            assert definition.is_binary
            assert (definition.label(0), definition.label(1)) == ("no", "yes")
    assert [v.label for v in attribute("BRI").values] == ["low", "medium", "high"]
    assert [v.label for v in attribute("LEN").values] == ["short", "medium", "long"]
    assert [v.value for v in attribute("LEN").values] == [0, 1, 2]


def test_proposal_methods():
    methods = {a.code: a.proposal for a in ATTRIBUTES}
    assert {c for c, m in methods.items() if m == "exact"} == {"BRI", "FM", "SV", "ARV", "LEN"}
    assert {c for c, m in methods.items() if m == "heuristic"} == {"FO", "OV", "IV", "MB"}
    assert {c for c, m in methods.items() if m == "manual"} == {
        "CM",
        "VC",
        "PO",
        "ROT",
        "DEF",
        "SD",
        "NAO",
        "PTI",
    }


def test_lookup():
    assert attribute(12).code == "BRI"
    assert attribute("arv").index == 15
    with pytest.raises(KeyError):
        attribute("XX")
    with pytest.raises(KeyError):
        attribute(17)
    with pytest.raises(ValueError, match="SV"):
        attribute("SV").label(2)


@pytest.mark.parametrize(
    ("b", "level"), [(0, 0), (83, 0), (83.001, 1), (84, 1), (119, 1), (119.001, 2), (120, 2)]
)
def test_brightness_level(b, level):
    assert brightness_level(b) == level


@pytest.mark.parametrize(
    ("n", "level"), [(2, 0), (600, 0), (601, 1), (1800, 1), (1801, 2), (100000, 2)]
)
def test_length_level(n, level):
    assert length_level(n) == level


def test_validate_accepts_numpy_ints_and_returns_plain_ints():
    values = validate_attributes(np.array([0] * 12 + [2, 1, 0, 1, 2]))
    assert values == [0] * 12 + [2, 1, 0, 1, 2]
    assert all(type(v) is int for v in values)


@pytest.mark.parametrize(
    ("index", "bad", "pattern"),
    [
        (0, 2, r"0 CM .*value 2"),
        (10, -1, r"10 NAO .*value -1"),
        (12, 3, r"12 BRI .*value 3"),
        (16, 3, r"16 LEN .*value 3"),
        (13, 1.0, r"13 FM .*value 1\.0"),
        (8, "1", r"8 IV .*value '1'"),
    ],
)
def test_validate_names_attribute_and_value(index, bad, pattern):
    values: list[object] = [0] * 17
    values[index] = bad
    with pytest.raises(ValueError, match=pattern):
        validate_attributes(values)


def test_validate_wrong_length():
    with pytest.raises(ValueError, match="17"):
        validate_attributes([0] * 16)


def test_line_round_trip():
    values = [1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 2, 1, 0, 1, 2]
    line = format_attributes_line(values)
    assert line == "1,0,1,0,1,0,1,0,1,0,1,0,2,1,0,1,2"
    assert parse_attributes_line(line) == values
    assert parse_attributes_line(line + "\r\n") == values
    assert parse_attributes_line(" 1, 0,1,0,1,0,1,0,1,0,1,0,2,1,0,1,2 \n") == values


@pytest.mark.parametrize(
    ("line", "pattern"),
    [
        ("0,0,0", "17"),
        ("0," * 16 + "x", r"16 LEN .*'x'"),
        ("0," * 12 + "3," + "0," * 3 + "0", r"12 BRI .*value 3"),
        ("0,,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0", r"1 VC"),
    ],
)
def test_parse_errors(line, pattern):
    with pytest.raises(ValueError, match=pattern):
        parse_attributes_line(line)
