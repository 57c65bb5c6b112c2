"""The review queue calibrated on the annotator's answers (costcore.assist.calibration), alone and
inside the AssistSession with a scripted engine."""

from __future__ import annotations

import pytest

from costcore.annotation import (
    FrameAnnotation,
    Provenance,
    SetFrames,
    UndoStack,
    VideoAnnotation,
)
from costcore.annotator import AssistSession
from costcore.assist.calibration import ReviewCalibration, ranking_reason
from costcore.assist.flags import Flag, FlagReason, FlagRules
from costcore.assist.jobs import EngineRunner
from costcore.assist.plan import Extent
from costcore.assist.review import ReviewQueue
from costcore.boxes import Box
from tests.assist_fakes import IndexFrames, ScriptedEngine

REASONS = FlagRules().review_reasons
LOW, JUMP = FlagReason.LOW_SCORE, FlagReason.JUMP


def flag(index: int, *pairs: tuple[FlagReason, float]) -> Flag:
    reasons = tuple(r for r, _ in pairs)
    values = tuple(v for _, v in pairs)
    return Flag(index, max(values), reasons, False, values)


def test_the_ranking_reason_is_the_most_severe_reviewed_one() -> None:
    mixed = flag(3, (FlagReason.DISAGREE, 0.9), (JUMP, 0.6), (LOW, 0.7))
    assert ranking_reason(mixed, REASONS) == LOW  # DISAGREE is shown, not proposed
    assert ranking_reason(flag(3, (FlagReason.DISAGREE, 0.9)), REASONS) is None


def annotated(count: int, **provenances: Provenance) -> VideoAnnotation:
    """A video whose frame ``fN`` holds a box of the given provenance."""
    video = VideoAnnotation("v", count)
    values = [
        (int(k[1:]), FrameAnnotation((1.0, 1.0, 5.0, 5.0), provenance=p))
        for k, p in provenances.items()
    ]
    UndoStack(video).push(SetFrames(values))
    return video


def test_answers_are_read_from_the_annotation_once_and_change_the_estimate() -> None:
    calibration = ReviewCalibration()
    low = flag(4, (LOW, 0.8))
    assert calibration.chance("nano", LOW) == pytest.approx(0.5)  # no answer yet
    assert calibration.worth(low, "nano", REASONS)  # the first proposal is always made
    calibration.proposed(low, "nano", REASONS)
    # not answered yet (still a tracked value): nothing is counted, the question stays open
    assert calibration.settle(annotated(10, f4=Provenance.TRACKED)) is None
    assert calibration.pending is not None
    assert calibration.settle(annotated(10, f4=Provenance.VERIFIED)) is False
    assert calibration.settle(annotated(10, f4=Provenance.VERIFIED)) is None  # counted once
    assert calibration.chance("nano", LOW) == pytest.approx(1 / 3)
    assert not calibration.worth(low, "nano", REASONS)  # fine once in one check: stop
    assert calibration.worth(low, "csrt", REASONS)  # another engine has its own record
    assert calibration.worth(flag(4, (JUMP, 0.8)), "nano", REASONS)  # and another reason
    for _ in range(2):  # two wrong boxes found: worth proposing again (3/5 >= 0.5)
        calibration.proposed(low, "nano", REASONS)
        assert calibration.settle(annotated(10, f4=Provenance.KEYFRAME)) is True
    assert calibration.counts[("nano", LOW)] == [2, 3]
    assert calibration.worth(low, "nano", REASONS)
    assert "nano low score: 2/3 wrong" in calibration.describe()


def test_the_queue_passes_over_what_the_calibration_turns_down() -> None:
    flags = [flag(2, (JUMP, 0.9)), flag(7, (LOW, 0.8)), flag(9, (LOW, 0.6))]
    queue = ReviewQueue(flags)
    rules = FlagRules()
    assert queue.proposal(rules).index == 2
    assert queue.proposal(rules, worth=lambda f: LOW in f.reasons).index == 7
    assert queue.proposal(rules, worth=lambda f: False) is None
    assert queue.proposal(rules, exclude=[2], worth=lambda f: f.index != 7).index == 9


def test_the_frames_the_queue_can_still_propose_are_those_proposal_reaches() -> None:
    weak = flag(4, (LOW, 0.3))  # shown, below the severity worth a check
    shown_only = flag(5, (FlagReason.DISAGREE, 0.9))  # a reason shown, never proposed
    flags = [flag(2, (JUMP, 0.9)), weak, shown_only, flag(7, (LOW, 0.8))]
    queue = ReviewQueue(flags)
    rules = FlagRules()
    assert queue.proposable(rules) == {2, 7}
    assert queue.proposable(rules, worth=lambda f: LOW in f.reasons) == {7}
    # every frame proposal() returns, excluding those already returned, is in the set
    reached, exclude = set(), []
    while (found := queue.proposal(rules, exclude=exclude)) is not None:
        reached.add(found.index)
        exclude.append(found.index)
    assert reached == queue.proposable(rules)


COUNT = 30
BOX = Box(10.0, 20.0, 8.0, 8.0)


def low_scores(calibrated: bool) -> tuple[AssistSession, EngineRunner]:
    """A session tracked with an engine that scores every frame after 5 low (the open-end
    rule off: only the score flags the frames)."""
    session = AssistSession(
        VideoAnnotation("v", COUNT),
        method="scripted",
        flag_rules=FlagRules(open_end_frames=0),
        calibrated_review=calibrated,
    )
    runner = EngineRunner(
        lambda: ScriptedEngine(scores={i: 0.05 for i in range(5, COUNT)}), IndexFrames(COUNT)
    )
    session.set_box(0, BOX)
    session.run(session.propagation(0, extent=Extent.END), runner)
    return session, runner


def test_a_calibrated_session_stops_proposing_what_the_annotator_keeps_verifying() -> None:
    plain, _ = low_scores(calibrated=False)
    calibrated, _ = low_scores(calibrated=True)
    for session in (plain, calibrated):
        first = session.review_proposal()
        assert first is not None and LOW in first.reasons
        session.verify([first.index])
    # the low scores were fine where the annotator looked: the plain queue goes on asking,
    # the calibrated one has learnt that a low score says little here
    again = plain.review_proposal()
    assert again is not None and again.index != first.index
    assert calibrated.review_proposal() is None
    assert calibrated.calibration.counts == {("scripted", LOW): [0, 1]}
    # what the timeline draws bright: every low-score frame left for the plain queue, none
    # for the calibrated one (and all of them again once calibration is switched off)
    assert len(plain.proposable_frames()) == COUNT - 5 - 1
    assert calibrated.proposable_frames() == frozenset()
    calibrated.calibrated_review = False
    assert calibrated.proposable_frames() == plain.proposable_frames()
    assert plain.calibration.counts == {("scripted", LOW): [0, 1]}  # counted either way


def test_a_calibrated_session_keeps_proposing_while_checks_find_wrong_boxes() -> None:
    session, runner = low_scores(calibrated=True)
    for _ in range(3):
        proposal = session.review_proposal()
        assert proposal is not None
        session.set_box(proposal.index, BOX)  # wrong: the annotator draws the box
        job = session.refill(proposal.index, preceding=True)
        if job is not None:
            session.run(job, runner)
    # the last answer is read when the next proposal is asked for
    assert session.calibration.counts[("scripted", LOW)] == [2, 2]
    assert session.review_proposal() is not None
    assert session.calibration.counts[("scripted", LOW)] == [3, 3]


def test_the_answers_round_trip_through_plain_json_and_bad_records_are_left_out() -> None:
    import json

    calibration = ReviewCalibration(
        counts={("nanotrack", LOW): [1, 4], ("csrt", JUMP): [2, 2]}, pending=(17, "csrt", JUMP)
    )
    again = ReviewCalibration.from_json(json.loads(json.dumps(calibration.to_json())))
    assert again.counts == calibration.counts and again.pending == calibration.pending
    assert again.chance("nanotrack", LOW) == pytest.approx(2 / 6)
    damaged = {
        "counts": [
            ["csrt", "low score", 1, 3],  # kept
            ["csrt", "no-such-reason", 1, 3],  # a reason this version does not know
            ["csrt", "jump", 5, 3],  # more failures than answers
            ["csrt", "jump", -1, 3],
            ["csrt", "jump", True, 3],
            [3, "jump", 1, 3],
            "garbage",
        ],
        "pending": [1.5, "csrt", "jump"],
    }
    kept = ReviewCalibration.from_json(damaged)
    assert kept.counts == {("csrt", LOW): [1, 3]} and kept.pending is None
    for value in (None, [], "x", {"counts": "x", "pending": {}}):
        assert ReviewCalibration.from_json(value).is_empty
