"""The effort benchmark over sequences, engines and thresholds, and its tables.

Each workflow that tracks runs once per engine, so one table compares, say, CSRT and NanoTrack
side by side. Efforts are **summed over the sequences** (per-100-frame rates mislead where an
anchor is at the one-box floor) and the ratios are read from the sums:

- the *better anchor* is the cheaper of the workflows annotators have offline today: linear
  interpolation, and restart tracking with CSRT (DarkLabel, CVAT);
- the *best workflow* is the cheapest of everything else the tool offers;
- per engine, the assisted workflow is compared with restart tracking with that same engine.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from costcore.assist.combine import CombineRules
from costcore.assist.flags import FlagRules
from costcore.effort.simulation import (
    REVIEW_WORKFLOWS,
    WORKFLOWS,
    EffortResult,
    keyframe_spacing,
    simulate,
)

#: workflows annotators have offline today, each with the engine it uses ("" = none)
ANCHORS: tuple[tuple[str, str], ...] = (("interpolation", ""), ("tracking", "csrt"))


def label(workflow: str, engine: str) -> str:
    """The column name of a workflow run with an engine (``tracking/csrt``)."""
    return workflow if not engine or workflow == "interpolation" else f"{workflow}/{engine}"


@dataclass
class SequenceEffort:
    """Every workflow (and engine) on one sequence for one ``tau``, keyed by :func:`label`."""

    sequence: str
    frames: int
    tau: float
    results: dict[str, EffortResult]


@dataclass(frozen=True)
class EffortSummary:
    """The sums over sequences at one ``tau`` and the ratios the targets are stated in."""

    tau: float
    totals: dict[str, float]
    anchor: str | None  # the better anchor's label
    best: str | None  # the cheapest non-anchor workflow's label

    @property
    def best_ratio(self) -> float:
        """Best workflow / better anchor (NaN when either is missing or the anchor is 0)."""
        return _ratio(self.totals, self.best, self.anchor)

    #: per review workflow label (``assisted/csrt``): the sequences where it cost more than
    #: restart tracking with the same engine
    worse: dict[str, tuple[str, ...]] = field(default_factory=dict)

    def assisted_ratio(self, engine: str, workflow: str = "assisted") -> float:
        """A review workflow (``assisted``) / restart tracking with the same engine."""
        return _ratio(self.totals, label(workflow, engine), label("tracking", engine))


def _ratio(totals: Mapping[str, float], top: str | None, bottom: str | None) -> float:
    if top is None or bottom is None or top not in totals or bottom not in totals:
        return float("nan")
    return totals[top] / totals[bottom] if totals[bottom] else float("nan")


def summarise(rows: list[SequenceEffort]) -> list[EffortSummary]:
    """One summary per ``tau`` (in the order the rows have them)."""
    out = []
    for tau in dict.fromkeys(row.tau for row in rows):
        group = [row for row in rows if row.tau == tau]
        labels = list(dict.fromkeys(k for row in group for k in row.results))
        totals = {
            k: float(sum(row.results[k].cost for row in group if k in row.results))
            for k in labels
            if all(k in row.results for row in group)  # a sum over fewer sequences misleads
        }
        anchors = [label(w, e) for w, e in ANCHORS if label(w, e) in totals]
        others = [k for k in totals if k not in anchors]
        anchor = min(anchors, key=lambda k: totals[k]) if anchors else None
        best = min(others, key=lambda k: totals[k]) if others else None
        worse = {}
        for key in totals:
            workflow, _, engine = key.partition("/")
            if workflow in REVIEW_WORKFLOWS and label("tracking", engine) in totals:
                base = label("tracking", engine)
                worse[key] = tuple(
                    row.sequence for row in group if row.results[key].cost > row.results[base].cost
                )
        out.append(EffortSummary(tau, totals, anchor, best, worse))
    return out


def effort_on_sequence(
    sequence: object,
    frames: object,
    engines: Mapping[str, Callable[[], object]],
    taus: tuple[float, ...] = (0.5, 0.7),
    workflows: tuple[str, ...] = WORKFLOWS,
    *,
    max_frames: int | None = None,
    flag_rules: FlagRules | None = None,
    combine_rules: CombineRules | None = None,
    progress: Callable[[str], None] | None = None,
    run_cache: str | Path | None = None,
    engine_keys: Mapping[str, str] | None = None,
) -> list[SequenceEffort]:
    """Every workflow with every engine at every ``tau`` on one sequence.

    ``engines`` maps a label to an engine factory; ``frames`` is the sequence's frame source.
    One :class:`CachedRunner` per engine serves all workflows and taus, so a run the tracking
    anchor made is not made again for the tool's workflow. With ``run_cache`` (a folder) the
    runs are also kept on disk for the next benchmark, under ``engine_keys[label]`` (what
    identifies the engine: its name and weights).
    """
    from costcore.assist.jobs import CachedRunner
    from costcore.assist.runstore import RunStore

    count = sequence.frame_count  # type: ignore[attr-defined]
    if max_frames:
        count = min(count, max_frames)
    boxes = np.asarray(sequence.boxes, dtype=np.float64)[:count]  # type: ignore[attr-defined]
    absent = np.asarray(sequence.absent, dtype=bool)[:count]  # type: ignore[attr-defined]
    name = sequence.name  # type: ignore[attr-defined]

    class _Limited:
        frame_count = count

        def frame(self, index: int) -> np.ndarray:
            return frames.frame(index)  # type: ignore[attr-defined]

    runners = {}
    for engine, make in engines.items():
        key = (engine_keys or {}).get(engine, engine)
        store = None if run_cache is None else RunStore(run_cache, key, name, count)
        runners[engine] = CachedRunner(make, _Limited(), store=store)  # type: ignore[arg-type]
    out = []
    for tau in taus:
        results: dict[str, EffortResult] = {}
        for workflow in workflows:
            for engine in [""] if workflow == "interpolation" else list(runners):
                runner = runners.get(engine)
                result = simulate(
                    workflow, name, boxes, absent, tau, runner,
                    flag_rules=flag_rules, combine_rules=combine_rules, engine_name=engine,
                )  # fmt: skip
                results[label(workflow, engine)] = result
                if runner is not None:
                    runner.persist()  # an interrupted benchmark keeps the runs made so far
                if progress is not None:
                    progress(
                        f"{name} tau={tau} {label(workflow, engine)}: effort {result.cost:g} "
                        f"({result.corrections} corrected, {result.verifies} verified, "
                        f"{result.seconds:.0f} s)"
                    )
        out.append(SequenceEffort(name, count, tau, results))
    errors = [e for r in runners.values() for e in r.store_errors]
    if errors and progress is not None:
        progress(f"run cache: {len(errors)} run(s) not kept, e.g. {errors[0]}")
    return out


def _columns(rows: list[SequenceEffort]) -> list[str]:
    names = list(dict.fromkeys(k for row in rows for k in row.results))

    def order(key: str) -> tuple[int, int, str]:
        workflow, _, engine = key.partition("/")
        if workflow in WORKFLOWS:
            return (WORKFLOWS.index(workflow), 0, engine)
        return (len(WORKFLOWS), keyframe_spacing(workflow) or 0, engine)

    return sorted(names, key=order)


def format_effort_table(rows: list[SequenceEffort]) -> str:
    """A Markdown table: the effort of every workflow per sequence and ``tau``, the sums per
    ``tau``, then the ratios the targets are stated in."""
    columns = _columns(rows)
    head = ["sequence", "frames", "tau", *columns]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for row in rows:
        cells = [row.sequence, str(row.frames), f"{row.tau:g}"]
        for key in columns:
            r = row.results.get(key)
            if r is None:
                cells.append("–")
                continue
            detail = f"{r.corrections} c" + (f" + {r.verifies} v" if r.verifies else "")
            cells.append(f"{r.cost:g} ({detail})")
        lines.append("| " + " | ".join(cells) + " |")
    summaries = summarise(rows)
    for summary in summaries:
        group = [row for row in rows if row.tau == summary.tau]
        cells = ["**sum**", str(sum(row.frames for row in group)), f"{summary.tau:g}"]
        cells += [f"**{summary.totals[k]:g}**" if k in summary.totals else "–" for k in columns]
        lines.append("| " + " | ".join(cells) + " |")
    lines.append("")
    lines.append(
        "Effort = corrections after frame 1 + 0.25 × verifications, summed over sequences."
    )
    for summary in summaries:
        lines.append(_summary_line(summary, columns))
    return "\n".join(lines)


def _summary_line(summary: EffortSummary, columns: list[str]) -> str:
    parts = [f"tau {summary.tau:g}:"]
    if summary.anchor is not None:
        parts.append(f"better anchor {summary.anchor} = {summary.totals[summary.anchor]:g};")
    if summary.best is not None:
        ratio = summary.best_ratio
        shown = f" ({ratio:.2f} x the anchor)" if np.isfinite(ratio) else ""
        parts.append(f"best workflow {summary.best} = {summary.totals[summary.best]:g}{shown};")
    for key in columns:
        workflow, _, engine = key.partition("/")
        if workflow not in REVIEW_WORKFLOWS:
            continue
        ratio = summary.assisted_ratio(engine, workflow)
        if np.isfinite(ratio):
            worse = summary.worse.get(key, ())
            where = f", worse on {', '.join(worse)}" if worse else ""
            parts.append(f"{key} = {ratio:.2f} x tracking/{engine}{where};")
    return " ".join(parts).rstrip(";")
