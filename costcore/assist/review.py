"""The review queue: flagged frames, most severe first, and stepping through them in time.

The queue is rebuilt from the flags after every change (flags are cheap to compute), so a
frame a person corrected or verified simply drops out of it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence

from costcore.assist.flags import Flag, FlagRules


class ReviewQueue:
    """Flags ranked by severity (ties: earlier frame first); ``next_after`` walks in time."""

    def __init__(self, flags: Iterable[Flag], min_severity: float = 0.0) -> None:
        kept = [f for f in flags if f.severity >= min_severity]
        self._ranked: list[Flag] = sorted(kept, key=lambda f: (-f.severity, f.index))
        self._in_time: list[Flag] = sorted(kept, key=lambda f: f.index)
        self._by_index = {f.index: f for f in kept}

    def __len__(self) -> int:
        return len(self._ranked)

    def __iter__(self) -> Iterator[Flag]:
        return iter(self._ranked)

    def __contains__(self, index: object) -> bool:
        return index in self._by_index

    @property
    def ranked(self) -> Sequence[Flag]:
        return tuple(self._ranked)

    def get(self, index: int) -> Flag | None:
        return self._by_index.get(index)

    def top(self, exclude: Iterable[int] = ()) -> Flag | None:
        """The most severe flag (skipping frames in ``exclude``), None when there is none."""
        skip = set(exclude)
        return next((f for f in self._ranked if f.index not in skip), None)

    def proposal(
        self,
        rules: FlagRules,
        exclude: Iterable[int] = (),
        worth: Callable[[Flag], bool] | None = None,
    ) -> Flag | None:
        """The frame the review workflow asks a person to check next (None: nothing).

        The most severe flag counting only ``rules.review_reasons``, if at least
        ``rules.review_min_severity``; ties go to the earlier frame. With ``worth`` (the
        calibrated queue), flags it turns down are passed over for the next most severe.
        """
        skip = set(exclude)
        candidates = [
            (-value, flag.index, flag)
            for flag, value in self._review_severities(rules)
            if flag.index not in skip
        ]
        candidates.sort(key=lambda c: (c[0], c[1]))
        return next((f for _v, _i, f in candidates if worth is None or worth(f)), None)

    def proposable(
        self, rules: FlagRules, worth: Callable[[Flag], bool] | None = None
    ) -> frozenset[int]:
        """The frames :meth:`proposal` can still reach with these ``rules`` and ``worth``:
        the flags the review workflow would ask a person about, apart from those it only
        shows (the timeline draws the others faint)."""
        return frozenset(
            flag.index
            for flag, _value in self._review_severities(rules)
            if worth is None or worth(flag)
        )

    def _review_severities(self, rules: FlagRules) -> Iterator[tuple[Flag, float]]:
        """Flags in time order that are severe enough to propose, counting only the
        rules' review reasons, with that severity."""
        for flag in self._in_time:
            value = flag.severity_for(rules.review_reasons)
            if value >= rules.review_min_severity:
                yield flag, value

    def next_after(self, index: int, wrap: bool = True) -> Flag | None:
        """The first flagged frame after ``index`` in time (wrapping to the start)."""
        for flag in self._in_time:
            if flag.index > index:
                return flag
        return self._in_time[0] if wrap and self._in_time else None

    def previous_before(self, index: int, wrap: bool = True) -> Flag | None:
        for flag in reversed(self._in_time):
            if flag.index < index:
                return flag
        return self._in_time[-1] if wrap and self._in_time else None
