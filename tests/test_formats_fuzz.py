"""Property tests: malformed annotation files never crash a reader or the validator.

Every reader must either return a consistent Sequence or raise FormatError with ``.path`` set;
any other exception type escaping would crash the app on a user's bad file.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from costcore.errors import FormatError
from costcore.formats import Sequence, read_sequence, validate_vlsot500
from costcore.formats.vlsot500_validator import Issue
from tests.test_formats_support import ANNOTATION_FILES, MAKERS

FRAMES = 5
CASES = [(layout, name) for layout, names in ANNOTATION_FILES.items() for name in names]
FUZZ = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)

TOKENS = st.one_of(
    st.integers(-1000, 100_000).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(str),
    st.sampled_from(
        ["0", "1", "2", "NaN", "nan", "-inf", "", "x", "1e999", "1.5", "-0", "+3", ".5", "5."]
        + ["1_0", "\uff11", "0x10", "١"]
    ),
)
DELIMITERS = st.sampled_from([",", "\t", " ", ", ", " ,\t", ";", ",,", "|"])
LINE = st.builds(lambda fields, sep: sep.join(fields), st.lists(TOKENS, max_size=6), DELIMITERS)
VALID_LINES = {
    "boxes": [f"{10 + i},{5 + i},20,10" for i in range(FRAMES)],
    "nan boxes": ["1,2,3,4", "NaN,NaN,NaN,NaN", "0,0,0,0", "1.5,2.5,3,4", "7\t8\t9\t10"],
    "flags": ["0"] * FRAMES,
    "some flags": ["0", "1", "0", "0", "1"],
    "flag line": [",".join(["0"] * FRAMES)],
    "speeds": ["0.000000"] + ["1.250000"] * (FRAMES - 1),
    "attribute words": ["airplane,vehicle,white,top left"],
}


@st.composite
def near_valid_lines(draw: st.DrawFn) -> list[str]:
    """A valid file of some kind with a few mutations: some examples read, most fail late."""
    lines = list(VALID_LINES[draw(st.sampled_from(sorted(VALID_LINES)))])
    for _ in range(draw(st.integers(0, 2))):
        if not lines:
            break
        at = draw(st.integers(0, len(lines) - 1))
        mutation = draw(st.sampled_from(["drop", "repeat", "blank", "field", "char", "delimiter"]))
        if mutation == "drop":
            del lines[at]
        elif mutation == "repeat":
            lines.insert(at, lines[at])
        elif mutation == "blank":
            lines.insert(at, draw(st.sampled_from(["", " ", "\t"])))
        elif mutation == "field":
            lines[at] += draw(DELIMITERS) + draw(TOKENS)
        elif mutation == "char":
            line = lines[at]
            cut = draw(st.integers(0, len(line)))
            lines[at] = line[:cut] + draw(st.characters(codec="utf-8")) + line[cut + 1 :]
        else:
            lines[at] = lines[at].replace(",", draw(DELIMITERS))
    return lines


@st.composite
def annotation_text(draw: st.DrawFn) -> bytes:
    """Text a dataset tool might plausibly (or implausibly) have written."""
    if draw(st.booleans()):
        lines = draw(near_valid_lines())
    else:
        lines = draw(st.lists(st.one_of(LINE, st.sampled_from(["", "  "])), max_size=9))
    newline = draw(st.sampled_from(["\n", "\r\n", "\r"]))
    text = newline.join(lines) + (newline if draw(st.booleans()) else "")
    bom = "\ufeff" if draw(st.integers(0, 9)) == 0 else ""
    return (bom + text).encode("utf-8")


#: text that is encodable (st.characters() alone may draw lone surrogates, which UTF-8 refuses)
UTF8_TEXT = st.text(st.characters(codec="utf-8"), max_size=200)
RAW = st.one_of(st.binary(max_size=300), UTF8_TEXT.map(lambda t: t.encode("utf-8")))


@pytest.fixture(scope="module")
def templates(tmp_path_factory: pytest.TempPathFactory) -> dict[tuple[str, str], Path]:
    """One folder per (layout, file) case; each example overwrites only that file."""
    folders = {}
    for layout, name in CASES:
        root = tmp_path_factory.mktemp(f"fuzz_{layout}")
        folders[(layout, name)] = MAKERS[layout](root / "seq", FRAMES)
    return folders


def _check_reads(folder: Path, layout: str | None) -> None:
    try:
        sequence = read_sequence(folder, layout)
    except FormatError as error:
        assert isinstance(error.path, Path)
        assert str(error.path)
        return
    assert isinstance(sequence, Sequence)
    assert sequence.boxes.shape == (sequence.frame_count, 4)
    assert sequence.absent.shape == (sequence.frame_count,)
    assert np.isfinite(sequence.boxes).all()
    if sequence.relative_speed is not None:
        assert sequence.relative_speed.shape == (sequence.frame_count,)
    if sequence.language_attributes is not None:
        assert sequence.language_attributes.is_complete
        assert "," not in "".join(sequence.language_attributes.words)


def _feed(folder: Path, layout: str, name: str, content: bytes) -> None:
    (folder / name.format(name=folder.name)).write_bytes(content)
    _check_reads(folder, layout)
    _check_reads(folder, None)  # auto-detection must be just as safe
    if layout == "vlsot500":
        issues = validate_vlsot500(folder)
        assert all(isinstance(issue, Issue) for issue in issues)


def test_fuzz_templates_are_valid(templates):
    """The folders the fuzzing starts from read cleanly (so the fuzzing exercises parsing)."""
    for (layout, _), folder in templates.items():
        assert read_sequence(folder).layout == layout


@pytest.mark.parametrize(("layout", "name"), CASES)
@FUZZ
@given(content=annotation_text())
def test_structured_garbage_never_crashes(templates, layout, name, content):
    _feed(templates[(layout, name)], layout, name, content)


@pytest.mark.parametrize(("layout", "name"), CASES)
@FUZZ
@given(content=RAW)
def test_random_bytes_never_crash(templates, layout, name, content):
    _feed(templates[(layout, name)], layout, name, content)
