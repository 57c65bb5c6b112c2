"""VLT's attribute words: the value, the session, export -> import, validation and engines."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from costcore.annotation import (
    SetLanguage,
    SetLanguageAttribute,
    SetLanguageAttributes,
    UndoStack,
    VideoAnnotation,
    load_session,
    save_session,
)
from costcore.annotation.export_checks import check_before_export
from costcore.errors import ExportError, FormatError, SessionError
from costcore.formats import read_sequence, validate_vlsot500, write_vlsot500
from costcore.formats.lasot import read_lasot
from costcore.language import (
    NO_ATTRIBUTES,
    LanguageAttributes,
    LanguageError,
    LanguageForm,
    LanguageInput,
    is_known_position,
)
from tests.test_formats_support import (
    default_boxes,
    make_lasot,
    make_vlsot500,
    write_bytes,
    write_images,
    write_text,
)

WORDS = LanguageAttributes("airplane", "vehicle", "white", "top left")
LINE = "airplane,vehicle,white,top left"
FILE = "language_attributes.txt"
ATTRIBUTES = [0] * 12 + [1, 0, 0, 0, 2]


# ------------------------------------------------------------------------------ the value
def test_words_are_trimmed_and_inner_space_collapsed() -> None:
    words = LanguageAttributes("  traffic   light ", "object", " red", "center ")
    assert words.words == ("traffic light", "object", "red", "center")
    assert words.line() == "traffic light,object,red,center"
    assert words.phrase() == "traffic light object red center"
    assert words.is_complete and not words.is_empty


@pytest.mark.parametrize(
    ("field", "word", "says"),
    [
        ("colour", "red, white", "comma"),
        ("major_class", "air\nplane", "one line"),
        ("initial_position", "left\tside", "control"),
        ("root_class", 3, "text"),
    ],
)
def test_bad_words_name_the_field(field: str, word: object, says: str) -> None:
    with pytest.raises(ValueError, match=says) as caught:
        LanguageAttributes(**{field: word})
    assert field.replace("_", " ") in str(caught.value)


def test_partial_words_and_what_is_missing() -> None:
    words = LanguageAttributes(major_class="bird", colour="black")
    assert not words.is_empty and not words.is_complete
    assert words.missing() == ("root class", "initial position")
    assert words.phrase() == "bird black"
    with pytest.raises(ValueError, match="missing: root class, initial position"):
        words.line()
    assert words.with_word("root_class", " animal ").root_class == "animal"
    with pytest.raises(KeyError):
        words.with_word("size", "big")
    assert NO_ATTRIBUTES.is_empty and LanguageAttributes() == NO_ATTRIBUTES


def test_parse_the_file_line() -> None:
    assert LanguageAttributes.parse(LINE) == WORDS
    assert LanguageAttributes.parse(" airplane , vehicle,white ,top left ") == WORDS
    with pytest.raises(ValueError, match="expected 4 comma-separated .* found 5"):
        LanguageAttributes.parse("a,b,c,d,e")
    with pytest.raises(ValueError, match="missing: colour"):
        LanguageAttributes.parse("a,b,,d")
    assert LanguageAttributes.parse("a,b,,d", complete=False).colour == ""
    with pytest.raises(ValueError, match="expected 4 attribute words .* found 3"):
        LanguageAttributes.from_words(["a", "b", "c"])


def test_position_vocabulary_is_advice_not_a_rule() -> None:
    for text in ("center", "top left", "Bottom-Right", "upper middle", "centre"):
        assert is_known_position(text)
    for text in ("", "near the tree", "north"):
        assert not is_known_position(text)
    assert LanguageAttributes(initial_position="near the tree").initial_position == "near the tree"


def test_language_input_renders_each_form() -> None:
    language = LanguageInput("a white airplane landing", WORDS)
    assert language.text() == language.text("sentence") == "a white airplane landing"
    assert language.text(LanguageForm.ATTRIBUTES) == "airplane vehicle white top left"
    assert language.has("attributes") and language.has("sentence")
    bare = LanguageInput("a car")
    assert not bare.has(LanguageForm.ATTRIBUTES)
    with pytest.raises(LanguageError, match="no attribute words"):
        bare.text("attributes")
    with pytest.raises(ValueError, match="unknown language form"):
        bare.text("both")
    assert LanguageInput("x", ["a", "b", "c", "d"]).attributes.phrase() == "a b c d"


# ---------------------------------------------------------------- model, commands, session
def test_undo_and_redo_setting_attribute_words() -> None:
    video = VideoAnnotation("v", 3, language="a plane")
    stack = UndoStack(video)
    changes = []
    stack.add_listener(changes.append)
    stack.push(SetLanguageAttribute("major_class", " airplane "))
    assert video.language_attributes == LanguageAttributes(major_class="airplane")
    stack.push(SetLanguageAttributes(WORDS))
    assert video.language_attributes == WORDS
    assert video.language_input.text("attributes") == "airplane vehicle white top left"
    stack.push(SetLanguageAttribute("initial_position", "center"))
    assert video.language_attributes.initial_position == "center"
    assert stack.undo_text == "Edit initial position"

    stack.undo()
    assert video.language_attributes == WORDS
    stack.undo()
    assert video.language_attributes == LanguageAttributes(major_class="airplane")
    stack.undo()
    assert video.language_attributes.is_empty and video.language == "a plane"
    stack.redo()
    stack.redo()
    assert video.language_attributes == WORDS
    assert all(change.video for change in changes)

    stack.push(SetLanguageAttributes(None))  # clearing them is one undoable step too
    assert video.language_attributes.is_empty
    stack.undo()
    assert video.language_attributes == WORDS


def test_bad_attribute_word_commands_fail_before_touching_anything() -> None:
    video = VideoAnnotation("v", 2)
    with pytest.raises(ValueError, match="comma"):
        SetLanguageAttribute("colour", "red,white")
    with pytest.raises(KeyError, match="size"):
        SetLanguageAttribute("size", "big")
    with pytest.raises(ValueError, match="expected 4 attribute words"):
        SetLanguageAttributes(["a", "b"])
    assert video.language_attributes.is_empty


def test_an_unchanged_word_is_not_a_change() -> None:
    video = VideoAnnotation("v", 2, language_attributes=WORDS)
    command = SetLanguageAttribute("colour", "white")
    assert not command.apply(video)
    assert SetLanguage("a plane").apply(video).video


def test_session_round_trip_keeps_the_words(tmp_path: Path) -> None:
    path = tmp_path / "s.json"
    video = VideoAnnotation("v", 3, language="a plane", language_attributes=WORDS)
    save_session(path, video)
    document = json.loads(path.read_text("utf-8"))
    assert document["version"] == 1
    assert document["language_attributes"] == {
        "major_class": "airplane",
        "root_class": "vehicle",
        "colour": "white",
        "initial_position": "top left",
    }
    loaded = load_session(path).annotation
    assert loaded == video and loaded.language_attributes == WORDS
    partial = VideoAnnotation("v", 3, language_attributes=("bird", "", "", ""))
    save_session(path, partial)
    assert load_session(path).annotation.language_attributes == LanguageAttributes("bird")


def test_old_session_without_the_field_loads(tmp_path: Path) -> None:
    path = tmp_path / "old.json"
    save_session(path, VideoAnnotation("v", 2, language="a car"))
    document = json.loads(path.read_text("utf-8"))
    assert document["language_attributes"] is None
    del document["language_attributes"]  # what sessions written before the field look like
    path.write_text(json.dumps(document), "utf-8")
    loaded = load_session(path).annotation
    assert loaded.language == "a car" and loaded.language_attributes.is_empty


@pytest.mark.parametrize(
    ("value", "says"),
    [
        ("airplane,vehicle,white,center", "expected an object"),
        ({"major_class": 3}, "language_attributes.major_class"),
        ({"size": "big"}, "unknown word"),
        ({"colour": "red,white"}, "comma"),
    ],
)
def test_bad_words_in_a_session_name_the_field(tmp_path: Path, value: object, says: str) -> None:
    path = tmp_path / "s.json"
    save_session(path, VideoAnnotation("v", 2))
    document = json.loads(path.read_text("utf-8"))
    document["language_attributes"] = value
    path.write_text(json.dumps(document), "utf-8")
    with pytest.raises(SessionError, match="language_attributes") as caught:
        load_session(path)
    assert says in str(caught.value) and str(path) in str(caught.value)


# ------------------------------------------------------------------- export and import
def _export(tmp_path: Path, count: int = 4, **options) -> Path:
    frames = write_images(tmp_path / "src", [f"{i + 1:04d}.jpg" for i in range(count)])
    arguments = {
        "frames": frames,
        "boxes": default_boxes(count),
        "absent": np.zeros(count, dtype=bool),
        "language": "a white airplane landing",
        "attributes": ATTRIBUTES,
    }
    arguments.update(options)
    return write_vlsot500(tmp_path / "out" / "Plane", **arguments)


def test_export_writes_the_file_and_import_reads_it_back(tmp_path: Path) -> None:
    folder = _export(tmp_path, language_attributes=WORDS)
    assert (folder / FILE).read_bytes() == (LINE + "\n").encode()
    assert (folder / "language.txt").read_text() == "a white airplane landing\n"
    assert validate_vlsot500(folder) == []
    sequence = read_sequence(folder)
    assert sequence.language_attributes == WORDS
    assert sequence.language == "a white airplane landing"
    video = VideoAnnotation.from_sequence(sequence)
    assert video.language_attributes == WORDS
    again = video.to_sequence(sequence.frames)
    assert again.language_attributes == WORDS


def test_export_round_trip_from_an_annotation(tmp_path: Path) -> None:
    video = VideoAnnotation("Plane", 4, language="a plane")
    stack = UndoStack(video)
    for field, word in zip(("major_class", "root_class", "colour", "initial_position"),
                           WORDS.words, strict=True):  # fmt: skip
        stack.push(SetLanguageAttribute(field, word))
    boxes = default_boxes(4)
    folder = _export(
        tmp_path,
        boxes=boxes,
        language=video.language,
        language_attributes=video.language_attributes,
    )
    assert read_sequence(folder).language_attributes == video.language_attributes


def test_no_words_no_file(tmp_path: Path) -> None:
    folder = _export(tmp_path, language_attributes=NO_ATTRIBUTES)
    assert not (folder / FILE).exists()
    assert read_sequence(folder).language_attributes is None
    assert VideoAnnotation.from_sequence(read_sequence(folder)).language_attributes.is_empty


def test_export_takes_four_strings_and_refuses_partial_words(tmp_path: Path) -> None:
    folder = _export(tmp_path, language_attributes=["car", "vehicle", "red", "center"])
    assert (folder / FILE).read_text() == "car,vehicle,red,center\n"
    with pytest.raises(ExportError, match="incomplete.*missing: root class"):
        _export(tmp_path, language_attributes=LanguageAttributes("car", "", "red", "center"))
    with pytest.raises(ExportError, match="comma"):
        _export(tmp_path, language_attributes=["car", "vehicle", "red, blue", "center"])
    assert (folder / FILE).read_text() == "car,vehicle,red,center\n"  # untouched


def test_checks_before_export() -> None:
    video = VideoAnnotation("v", 2, language="a car", language_attributes=("car", "", "", "x"))
    issues = [i for i in check_before_export(video) if i.file == Path(FILE)]
    assert [i.severity for i in issues] == ["error", "warning"]
    assert "root class, colour" in issues[0].message and "'x'" in issues[1].message
    complete = VideoAnnotation("v", 2, language="a car", language_attributes=WORDS)
    assert not [i for i in check_before_export(complete) if i.file == Path(FILE)]


@pytest.mark.parametrize(
    ("data", "line", "says"),
    [
        (b"a,b,c,d,e\n", 1, "found 5"),
        (b"airplane,vehicle,,center\n", 1, "missing: colour"),
        (b"\nairplane,vehicle,white,center\n", 1, "blank line"),
        (b"airplane,vehicle,white,center\n\nmore\n", 2, "blank line"),
        (b"airplane,vehicle,white,center\nbird,animal,black,left\n", 2, "one line"),
        (b"airplane,vehicle,wh\xffite,center\n", 1, "not UTF-8"),
        (b"ok,ok,ok,ok\n\xfe\n", 2, "not UTF-8"),
        (b"air\x07plane,vehicle,white,center\n", 1, "control"),
    ],
)
def test_malformed_file_names_file_and_line(
    tmp_path: Path, data: bytes, line: int, says: str
) -> None:
    folder = make_vlsot500(tmp_path / "Car", 3)
    write_bytes(folder / FILE, data)
    with pytest.raises(FormatError, match=says) as caught:
        read_sequence(folder)
    assert caught.value.path == folder / FILE and caught.value.line == line
    assert f"{FILE}, line {line}" in str(caught.value)


def test_empty_file_is_an_error(tmp_path: Path) -> None:
    folder = make_vlsot500(tmp_path / "Car", 3)
    write_bytes(folder / FILE, b" \n")
    with pytest.raises(FormatError, match="empty") as caught:
        read_sequence(folder)
    assert caught.value.path == folder / FILE


def test_reader_tolerates_what_other_readers_tolerate(tmp_path: Path) -> None:
    folder = make_vlsot500(tmp_path / "Car", 3)
    write_bytes(folder / FILE, b"\xef\xbb\xbfairplane , vehicle,white,top  left\r\n")
    assert read_sequence(folder).language_attributes == WORDS


def test_any_layout_reads_the_file_when_present(tmp_path: Path) -> None:
    plain = make_lasot(tmp_path / "airplane-1")
    assert read_lasot(plain).language_attributes is None
    write_text(plain / FILE, LINE + "\n")
    sequence = read_sequence(plain)
    assert sequence.layout == "lasot" and sequence.language_attributes == WORDS
    assert sequence.language == "white airplane landing on ground"


# ----------------------------------------------------------------------------- validator
def _issues(folder: Path, text: str | bytes) -> list:
    data = text.encode() if isinstance(text, str) else text
    write_bytes(folder / FILE, data)
    return [issue for issue in validate_vlsot500(folder) if issue.file == folder / FILE]


def _has(issues: list, severity: str, line: int | None, words: str) -> bool:
    return any(i.severity == severity and i.line == line and words in i.message for i in issues)


def test_validator_accepts_what_the_writer_writes(tmp_path: Path) -> None:
    folder = make_vlsot500(tmp_path / "Car", 3)
    assert _issues(folder, LINE + "\n") == []
    write_bytes(folder / FILE, b"")
    (folder / FILE).unlink()
    assert validate_vlsot500(folder) == []  # the file is optional


@pytest.mark.parametrize(
    ("text", "severity", "line", "says"),
    [
        ("airplane, vehicle,white,center\n", "error", 1, "spaces around a comma"),
        ("a,b,c,d,e\n", "error", 1, "found 5"),
        ("a,b,c\n", "error", 1, "found 3"),
        ("airplane,,white,center\n", "error", 1, "root class (word 2) is empty"),
        ("airplane,vehicle,white,center\nagain\n", "error", 2, "one line"),
        ("\n", "error", 1, "blank line"),
        ("airplane,vehicle,white,center\r\n", "error", 1, "carriage return"),
        (b"airplane,vehicle,wh\xffite,center\n", "error", 1, "not UTF-8"),
        ("air\tplane,vehicle,white,center\n", "error", 1, "control characters"),
        ("airplane,vehicle,white,near the tree\n", "warning", 1, "not built from the usual"),
        ("traffic  light,object,red,center\n", "warning", 1, "runs of spaces"),
        ("airplane,vehicle,white,center", "warning", 1, "no newline"),
        ("", "error", None, "empty"),
    ],
)
def test_validator_reports(
    tmp_path: Path, text: str | bytes, severity: str, line: int | None, says: str
) -> None:
    issues = _issues(make_vlsot500(tmp_path / "Car", 3), text)
    assert _has(issues, severity, line, says), "\n".join(map(str, issues))


# -------------------------------------------------------------------------------- engines
def _recording_engine_class():
    """A fresh engine class that records the text every instance was initialised with."""
    from costcore.boxes import Box
    from costcore.engines.base import TrackerEngine, TrackResult

    class RecordingEngine(TrackerEngine):
        name = "recording"
        texts: list[str] = []

        def __init__(self, device: str = "auto") -> None:
            self.box = Box(0, 0, 1, 1)

        def initialize(self, frame, box, text: str = "") -> None:
            self.box = Box(*box)
            RecordingEngine.texts.append(text)

        def step(self, frame) -> TrackResult:
            return TrackResult(self.box, 1.0, self.name)

    return RecordingEngine


class _Frames:
    frame_count = 3

    def frame(self, index: int) -> np.ndarray:
        return np.zeros((8, 8, 3), dtype=np.uint8)


def test_engine_receives_the_form_it_is_set_to() -> None:
    from costcore.boxes import Box
    from costcore.engines.frame_loop import track_frames

    engine_class = _recording_engine_class()
    language = LanguageInput("a white airplane landing", WORDS)
    engine = engine_class()
    assert engine.language_form is LanguageForm.SENTENCE
    list(track_frames(engine, _Frames(), Box(1, 1, 2, 2), language))
    engine.language_form = LanguageForm.ATTRIBUTES
    list(track_frames(engine, _Frames(), Box(1, 1, 2, 2), language))
    list(track_frames(engine, _Frames(), Box(1, 1, 2, 2), "a plain string stays as it is"))
    assert engine_class.texts == [
        "a white airplane landing",
        "airplane vehicle white top left",
        "a plain string stays as it is",
    ]
    with pytest.raises(LanguageError):
        list(track_frames(engine, _Frames(), Box(1, 1, 2, 2), LanguageInput("a plane")))


@pytest.fixture
def recording_engine(monkeypatch: pytest.MonkeyPatch):
    """A ``recording`` engine in the registry for this test only."""
    from costcore.engines import registry

    engine_class = _recording_engine_class()
    engine_class.texts = []
    info = registry.EngineInfo("recording", "records its text", engine_class)
    monkeypatch.setitem(registry._ENGINES, "recording", info)
    return engine_class


def test_create_engine_sets_the_language_form(recording_engine) -> None:
    from costcore.engines import EngineError, create_engine

    assert create_engine("recording").language_form is LanguageForm.SENTENCE
    engine = create_engine("recording", language_form="attributes")
    assert engine.language_form is LanguageForm.ATTRIBUTES
    assert engine.language_text(LanguageInput("s", WORDS)) == WORDS.phrase()
    with pytest.raises(EngineError, match="unknown language form"):
        create_engine("recording", language_form="words")


def _synthetic_sequence(root: Path, name: str, words: str | None) -> Path:
    from tests.batch_fakes import make_otb_sequence

    folder = make_otb_sequence(root, name, frames=6, language="a bright square")
    if words is not None:
        write_text(folder / FILE, words + "\n")
    return folder


def test_track_cli_gives_the_engine_attribute_words(tmp_path: Path, recording_engine, capsys):
    from costcore.cli import main

    folder = _synthetic_sequence(tmp_path, "square", "square,shape,yellow,left")
    out = tmp_path / "r.txt"
    base = ["track", "--sequence", str(folder), "--engine", "recording", "--out", str(out)]
    assert main(base) == 0
    assert main([*base, "--language-form", "attributes"]) == 0
    assert main([*base, "--language-attributes", "box, thing ,yellow,top left"]) == 0
    assert recording_engine.texts == [
        "a bright square",
        "square shape yellow left",
        "box thing yellow top left",
    ]
    assert "language (attribute words): box thing yellow top left" in capsys.readouterr().out

    bare = _synthetic_sequence(tmp_path, "bare", None)
    argv = ["track", "--sequence", str(bare), "--engine", "recording", "--out", str(out)]
    assert main([*argv, "--language-form", "attributes"]) == 2
    assert "--language-attributes" in capsys.readouterr().err
    with pytest.raises(SystemExit) as caught:
        main([*argv, "--language-attributes", "a,b,c,d,e"])
    assert caught.value.code == 2
    assert "found 5" in capsys.readouterr().err


def test_batch_plan_renders_the_form_and_fails_sequences_without_words(
    tmp_path: Path, recording_engine
) -> None:
    from costcore.batch import plan_batch
    from costcore.cli.run import default_tracker_name

    dataset = tmp_path / "dataset"
    _synthetic_sequence(dataset, "with", "square,shape,yellow,left")
    _synthetic_sequence(dataset, "without", None)
    results = tmp_path / "results"
    plan = plan_batch(dataset, results, "x")
    assert sorted(job.text for job in plan.jobs) == ["a bright square", "a bright square"]
    plan = plan_batch(dataset, results, "x", language_form="attributes")
    assert [(job.name, job.text) for job in plan.jobs] == [("with", "square shape yellow left")]
    assert [failure.name for failure in plan.failed] == ["without"]
    assert FILE in plan.failed[0].reason
    assert default_tracker_name("csrt", None, "attributes") == "csrt-attributes"
    assert default_tracker_name("csrt", None) == "csrt"


def test_run_cli_tracks_with_attribute_words(tmp_path: Path, recording_engine, capsys) -> None:
    from costcore.cli import main

    dataset = tmp_path / "dataset"
    _synthetic_sequence(dataset, "with", "square,shape,yellow,left")
    results = tmp_path / "results"
    argv = ["run", "--dataset", str(dataset), "--results", str(results), "--engine", "recording"]
    assert main([*argv, "--language-form", "attributes"]) == 0
    assert recording_engine.texts == ["square shape yellow left"]
    assert (results / "recording-attributes" / "with.txt").is_file()
    assert "language: attribute words" in capsys.readouterr().out


def test_convert_cli_writes_and_keeps_attribute_words(tmp_path: Path, capsys) -> None:
    from costcore.cli import main

    source = _synthetic_sequence(tmp_path, "square", None)
    first = tmp_path / "first"
    argv = ["convert", str(source), str(first), "--language-attributes", "square,shape,yellow,left"]
    assert main(argv) == 0
    assert (first / FILE).read_text() == "square,shape,yellow,left\n"
    assert (first / "language.txt").read_text() == "a bright square\n"
    assert "attribute words: square,shape,yellow,left" in capsys.readouterr().out
    second = tmp_path / "second"
    assert main(["convert", str(first), str(second)]) == 0  # the source's words are kept
    assert read_sequence(second).language_attributes == LanguageAttributes(
        "square", "shape", "yellow", "left"
    )
    with pytest.raises(SystemExit) as caught:
        main(["convert", str(source), str(tmp_path / "bad"), "--language-attributes", "a,,c,d"])
    assert caught.value.code == 2
    assert "missing: root class" in capsys.readouterr().err
    assert not (tmp_path / "bad").exists()
    plain = tmp_path / "plain"
    assert main(["convert", str(source), str(plain)]) == 0
    assert not (plain / FILE).exists()
