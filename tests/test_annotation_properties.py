"""Random edit sequences: undo always returns to the exact earlier state, redo to the later."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from costcore.annotation import (
    UNANNOTATED,
    ClearFrames,
    Command,
    FrameAnnotation,
    Macro,
    MarkVerified,
    Provenance,
    SetAbsent,
    SetAttribute,
    SetAttributes,
    SetBox,
    SetFrames,
    SetLanguage,
    UndoStack,
    VideoAnnotation,
)

FRAMES = 8
index = st.integers(0, FRAMES - 1)
indices = st.one_of(
    st.lists(index, max_size=4),
    st.builds(lambda a, b: range(min(a, b), max(a, b) + 1), index, index),
)
number = st.floats(-1e4, 1e4, allow_nan=False, allow_infinity=False)
size = st.floats(0, 1e4, allow_nan=False, allow_infinity=False)
box = st.tuples(number, number, size, size)
score = st.none() | st.floats(0, 1)
provenance = st.sampled_from(list(Provenance))

frame_value = st.one_of(
    st.just(UNANNOTATED),
    st.builds(lambda b, p, s: FrameAnnotation(b, provenance=p, score=s), box, provenance, score),
    st.builds(lambda p: FrameAnnotation(absent=True, provenance=p), provenance),
)
attribute_edit = st.integers(0, 16).flatmap(
    lambda i: st.builds(SetAttribute, st.just(i), st.integers(0, 2 if i in (12, 16) else 1))
)
all_attributes = st.tuples(*[st.integers(0, 2 if i in (12, 16) else 1) for i in range(17)])

simple_command = st.one_of(
    st.builds(lambda i, b, k: SetBox(i, b, merge_key=k), index, box, st.sampled_from([None, "n"])),
    st.builds(
        lambda items, r: SetFrames(items, respect_protected=r),
        st.lists(st.tuples(index, frame_value), max_size=6),
        st.booleans(),
    ),
    st.builds(ClearFrames, indices),
    st.builds(SetAbsent, indices, st.booleans()),
    st.builds(MarkVerified, indices),
    st.builds(SetLanguage, st.text(alphabet="abc xyz", max_size=8)),
    attribute_edit,
    st.builds(SetAttributes, all_attributes),
)
command: st.SearchStrategy[Command] = st.one_of(
    simple_command,
    st.builds(lambda parts: Macro("macro", parts), st.lists(simple_command, max_size=4)),
)


def initial_video() -> VideoAnnotation:
    frames = [UNANNOTATED] * FRAMES
    frames[0] = FrameAnnotation((1, 2, 3, 4), provenance=Provenance.KEYFRAME)
    frames[3] = FrameAnnotation(absent=True, provenance=Provenance.VERIFIED)
    return VideoAnnotation("p", FRAMES, language="start", frames=frames)


@settings(max_examples=150, deadline=None)
@given(st.lists(command, max_size=25))
def test_undo_all_then_redo_all(commands: list[Command]) -> None:
    video = initial_video()
    stack = UndoStack(video)
    start = video.to_dict()
    for c in commands:
        stack.push(c)
    end = video.to_dict()
    while stack.can_undo:
        stack.undo()
    assert video.to_dict() == start
    while stack.can_redo:
        stack.redo()
    assert video.to_dict() == end


class HistoryMachine(RuleBasedStateMachine):
    """Pushes, undos and redos in any order; a list of expected states is the oracle."""

    def __init__(self) -> None:
        super().__init__()
        self.video = initial_video()
        self.stack = UndoStack(self.video)
        self.states = [self.video.to_dict()]  # states[k]: after k applied steps
        self.position = 0
        self.saved: int | None = 0

    @rule(c=command)
    def push(self, c: Command) -> None:
        self.stack.push(c)
        del self.states[self.position + 1 :]
        if self.saved is not None and self.saved > self.position:
            self.saved = None
        if self.stack.index == self.position + 1:
            self.states.append(self.video.to_dict())
            self.position += 1
        else:  # merged into the newest step
            self.states[self.position] = self.video.to_dict()

    @precondition(lambda self: self.position > 0)
    @rule()
    def undo(self) -> None:
        self.stack.undo()
        self.position -= 1

    @precondition(lambda self: self.position < len(self.states) - 1)
    @rule()
    def redo(self) -> None:
        self.stack.redo()
        self.position += 1

    @rule()
    def save(self) -> None:
        self.stack.mark_clean()
        self.saved = self.position

    @invariant()
    def state_matches(self) -> None:
        assert self.video.to_dict() == self.states[self.position]
        assert self.stack.index == self.position
        assert self.stack.count == len(self.states) - 1
        assert self.stack.is_clean == (self.saved == self.position)


HistoryMachine.TestCase.settings = settings(max_examples=60, stateful_step_count=30, deadline=None)
test_history_machine = HistoryMachine.TestCase
