"""``python -m costcore run``: track every sequence of a dataset into toolkit result files.

For each sequence folder (any supported layout) the engine starts from the first frame with a
visible target, with its ground-truth box and the sequence's language ("" when it has none),
or with ``--language-form attributes`` its four attribute words (``language_attributes.txt``,
VLT's annotation; a sequence without them is reported as unusable), and writes
``<results>/<tracker>/<sequence>.txt`` (``%.3f`` x,y,w,h, one line per frame; frames
before the first visible one get 0,0,0,0) and ``<results>/<tracker>/times/<sequence>_time.txt``
(``%.8f`` seconds per frame). Files are written atomically; sequences whose files are complete
are skipped, so an interrupted run (Ctrl+C, a crash) is resumed by running the same command
again. A failing sequence is reported and the others go on.

To use every GPU of a machine, run one worker process per GPU: ``--gpus 4`` (cuda:0..3) or
``--devices cuda:0,cuda:1``; ``--workers 8 --gpus 4`` puts two workers on each. Each worker
loads the engine once and sees only its own GPU. Several CPU workers: ``--workers N``.
``--dataset`` may also be a single sequence folder.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from costcore.batch.runner import BatchListener, BatchResult
from costcore.batch.sequence_run import CANCELLED, DONE, SequenceOutcome
from costcore.cli.language_options import add_language_form
from costcore.errors import CostcoreError
from costcore.fileio import output_file_problem
from costcore.language import LanguageForm

if TYPE_CHECKING:
    from costcore.batch.job_plan import BatchPlan, SequenceJob


def _positive_int(value: str) -> int:
    try:
        number = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {value!r}") from None
    if number < 1:
        raise argparse.ArgumentTypeError(f"expected a positive number, got {value}")
    return number


def _device(value: str) -> str:
    from costcore.batch.devices import DeviceError, check_device_name

    try:
        return check_device_name(value)
    except DeviceError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def _device_list(value: str) -> list[str]:
    from costcore.batch.devices import DeviceError, parse_device_list

    try:
        return parse_device_list(value)
    except DeviceError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``run`` subcommand."""
    from costcore.engines.registry import available_engines

    engines = ", ".join(available_engines())
    parser = subparsers.add_parser(
        "run",
        help="track every sequence of a dataset into toolkit result files (resumable)",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--dataset", required=True, type=Path, metavar="DIR", help="folder of sequence folders"
    )
    parser.add_argument(
        "--results", required=True, type=Path, metavar="DIR", help="writes <DIR>/<tracker>/..."
    )
    parser.add_argument(
        "--engine",
        help=f"one of: {engines} (default: with --weights, nanotrack for NanoTrack's files, "
        "else cost; without, nanotrack when its weights are installed, else csrt)",
    )
    parser.add_argument(
        "--weights",
        type=Path,
        help="the engine's weights: COST checkpoint folder or TransT .pth; for allinone, "
        "vlt_tt and nanotrack the authors' checkpoint file (e.g. nanotrackv3.pth) or a folder "
        "with it",
    )
    parser.add_argument(
        "--tracker-name",
        metavar="NAME",
        help="results subfolder (default: the engine's name, plus the weights' name if any)",
    )
    parser.add_argument(
        "--sequences", nargs="+", metavar="NAME", help="only these sequences (default: all)"
    )
    parser.add_argument(
        "--workers",
        type=_positive_int,
        metavar="N",
        help="worker processes (default: one per device of --devices/--gpus, else 1)",
    )
    where = parser.add_mutually_exclusive_group()
    where.add_argument(
        "--device", type=_device, default="auto", help="auto, cpu, cuda or cuda:N for every worker"
    )
    where.add_argument(
        "--devices",
        type=_device_list,
        metavar="LIST",
        help="comma-separated devices, e.g. cuda:0,cuda:1: workers take them round robin",
    )
    where.add_argument(
        "--gpus", type=_positive_int, metavar="N", help="use cuda:0 .. cuda:N-1, one worker each"
    )
    parser.add_argument(
        "--max-frames",
        type=_positive_int,
        metavar="N",
        help="track only the first N frames of each sequence (a smoke test: such files are "
        "shorter than the ground truth, and a run without it redoes them)",
    )
    parser.add_argument(
        "--overwrite", action="store_true", help="redo sequences whose files are complete"
    )
    add_language_form(
        parser,
        "default: sentence; the attribute words come from each sequence's "
        "language_attributes.txt, and the default results folder then ends in '-attributes'",
        default=LanguageForm.SENTENCE.value,
    )
    parser.set_defaults(handler=run_dataset)


def default_tracker_name(
    engine: str,
    weights: Path | None,
    language_form: LanguageForm | str = LanguageForm.SENTENCE,
) -> str:
    """``csrt``; ``cost-<weights name>`` when weights are given, so that results of two
    checkpoints never land (and get skipped) in the same folder; ``-attributes`` appended for
    runs on the attribute words, for the same reason."""
    name = engine
    if weights is not None:
        stem = weights.name if weights.is_dir() else weights.stem
        name = f"{engine}-{stem}" if stem else engine
    if LanguageForm.parse(language_form) is LanguageForm.ATTRIBUTES:
        name += "-attributes"
    return name


def _duration(seconds: float) -> str:
    seconds = int(round(seconds))
    hours, rest = divmod(seconds, 3600)
    minutes, seconds = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{seconds:02d}" if hours else f"{minutes}:{seconds:02d}"


class RunReporter(BatchListener):
    """Prints one line per finished sequence and, on a terminal, a live status line:
    sequences done/total, frames, frames/s over all workers, time left."""

    def __init__(self, label: str, total: int, frames: int, stream: TextIO | None = None) -> None:
        self.label = label
        self.total = total
        self.frames_total = frames
        self.stream = stream if stream is not None else sys.stderr
        self.interactive = bool(getattr(self.stream, "isatty", lambda: False)())
        self.finished = 0
        self.frames = 0
        self.started = time.perf_counter()
        self._last_draw = 0.0
        self._status_shown = False
        self._current: dict[int, tuple[SequenceJob | None, int]] = {}

    def status(self) -> str:
        elapsed = max(time.perf_counter() - self.started, 1e-9)
        rate = self.frames / elapsed
        total = max(self.frames_total, self.frames)  # a failed sequence's late reports
        left = total - self.frames
        eta = f", {_duration(left / rate)} left" if rate > 0 and left else ""
        return (
            f"{self.finished}/{self.total} sequences, {self.frames:,}/{total:,} "
            f"frames, {rate:.1f} frames/s{eta}"
        )

    def _clear(self) -> None:
        if self._status_shown:
            self.stream.write("\r\x1b[K")
            self._status_shown = False

    def _draw(self, force: bool = False) -> None:
        now = time.perf_counter()
        if not self.interactive or (not force and now - self._last_draw < 0.2):
            return
        self._last_draw = now
        self._clear()
        self.stream.write(f"{self.label}: {self.status()}")
        self._status_shown = True
        self.stream.flush()

    def _line(self, text: str) -> None:
        self._clear()
        self.stream.write(text + "\n")
        self._draw(force=True)
        self.stream.flush()

    def worker_started(self, slot: int, device: str, description: str) -> None:
        self._line(f"worker {slot}: {description}")

    def worker_failed(self, slot: int, device: str, reason: str) -> None:
        self._line(f"worker {slot} ({device}) gave up: {reason}")

    def sequence_started(self, slot: int, job: SequenceJob) -> None:
        self._current[slot] = (job, 0)

    def frames_tracked(self, count: int, slot: int = 0) -> None:
        self.frames += count
        job, seen = self._current.get(slot, (None, 0))
        if job is not None:
            self._current[slot] = (job, seen + count)
        self._draw()

    def sequence_finished(self, outcome: SequenceOutcome) -> None:
        for slot, (job, seen) in list(self._current.items()):
            if job is not None and job.name == outcome.name:
                del self._current[slot]
                if outcome.status != DONE:  # its frames left will not be tracked: not in the ETA
                    self.frames_total -= max(job.tracked_frames - seen, 0)
                break
        if outcome.status == CANCELLED:
            return
        self.finished += 1
        width = len(str(self.total))
        head = f"[{self.finished:>{width}}/{self.total}] {outcome.name}"
        if outcome.status == DONE:
            lost = f", lost on {outcome.lost_frames}" if outcome.lost_frames else ""
            text = f"{head}: {outcome.frames} frames, {outcome.fps:.1f} FPS{lost}"
        else:
            text = f"{head}: FAILED: {outcome.reason}"
        if not self.interactive:
            text += f"  | {self.status()}"
        self._line(text)

    def stopping(self, running: int) -> None:
        what = f"{running} running sequence(s) stop at the next frame" if running else "stopping"
        self._line(f"interrupted: {what}; finished files are kept (Ctrl+C again to kill)")

    def close(self) -> None:
        self._clear()
        self.stream.flush()


def _summary(plan: BatchPlan, result: BatchResult | None, out: TextIO) -> int:
    """Print what happened; the exit code (0 all good, 1 some failed, 130 interrupted)."""
    done = result.done if result is not None else []
    failures = [(f.name, f.reason) for f in plan.failed]
    if result is not None:
        failures += [(o.name, o.reason) for o in result.failed]
    frames = sum(outcome.frames for outcome in done)
    if done:
        wall = max(result.wall_seconds, 1e-9)
        engine_seconds = sum(outcome.track_seconds for outcome in done)
        engine_fps = (frames - len(done)) / engine_seconds if engine_seconds > 0 else 0.0
        print(
            f"done: {len(done)} sequence(s), {frames:,} frames in {_duration(wall)} "
            f"({frames / wall:.1f} frames/s overall, {engine_fps:.1f} FPS per engine)",
            file=out,
        )
    else:
        print("done: 0 sequences", file=out)
    if plan.skipped:
        print(f"skipped: {len(plan.skipped)} already complete", file=out)
    if failures:
        print(f"failed: {len(failures)}", file=out)
        for name, reason in failures:
            print(f"  {name}: {reason}", file=out)
    if plan.ignored:
        names = ", ".join(path.name for path in plan.ignored[:10])
        more = f" and {len(plan.ignored) - 10} more" if len(plan.ignored) > 10 else ""
        print(f"ignored (not sequence folders): {names}{more}", file=out)
    interrupted = result is not None and result.cancelled
    if interrupted:
        left = len(result.not_started) + len(result.with_status(CANCELLED))
        print(f"interrupted: {left} sequence(s) not finished; run again to resume", file=out)
    folder = plan.results_dir / plan.tracker
    print(f"results: {folder}", file=out)
    if interrupted:
        return 130
    return 1 if failures else 0


def _check_engine(args: argparse.Namespace) -> tuple[str, Path | None]:
    from costcore.engines.registry import default_engine_name, engine_info

    engine = args.engine or default_engine_name(args.weights)
    info = engine_info(engine)  # an unknown name is an error listing the known ones
    weights = args.weights
    if weights is not None:
        if not info.takes_weights:
            print(f"note: engine '{engine}' uses no weights; ignoring --weights", file=sys.stderr)
            weights = None
        elif not weights.exists():
            raise CostcoreError(f"{weights}: weights not found")
        else:
            weights = weights.resolve()  # workers may not share our idea of '.'
    elif info.weights_entries:  # from the weights cache, named for the workers and results
        from costcore.engines.registry import not_installed_message
        from costcore.weights import first_installed

        found = first_installed(info.weights_source)
        if found is None:
            raise CostcoreError(not_installed_message(engine))
        weights = found[1].resolve()
    elif info.needs_weights:
        raise CostcoreError(f"engine '{engine}' needs --weights ({info.weights_hint})")
    return engine, weights


def worker_devices(args: argparse.Namespace) -> list[str]:
    """One device per worker from --workers / --device / --devices / --gpus (checked)."""
    from costcore.batch.devices import (
        assign_devices,
        check_cuda_devices,
        gpu_devices,
        torch_cuda_count,
    )

    listed = args.devices if args.devices else gpu_devices(args.gpus) if args.gpus else None
    devices = assign_devices(args.workers, listed, default=args.device)
    check_cuda_devices(devices, torch_cuda_count)
    if listed and len(devices) < len(listed):
        unused = ", ".join(listed[len(devices) :])
        print(f"note: {len(devices)} worker(s) for {len(listed)} devices; unused: {unused}",
              file=sys.stderr)  # fmt: skip
    return devices


def run_dataset(args: argparse.Namespace) -> int:
    """Plan (skip what is done), track the rest, print a summary."""
    from costcore.batch.job_plan import plan_batch
    from costcore.batch.runner import run_batch
    from costcore.batch.worker import EngineSpec

    engine, weights = _check_engine(args)
    devices = worker_devices(args)
    form = LanguageForm.parse(args.language_form)
    tracker = args.tracker_name or default_tracker_name(engine, weights, form)
    plan = plan_batch(
        args.dataset,
        args.results,
        tracker,
        sequences=args.sequences,
        max_frames=args.max_frames,
        overwrite=args.overwrite,
        language_form=form,
    )
    out = sys.stdout
    print(
        f"{plan.total} sequence(s) in {args.dataset}: {len(plan.jobs)} to track "
        f"({plan.frames_to_track:,} frames), {len(plan.skipped)} already complete, "
        f"{len(plan.failed)} unusable",
        file=out,
    )
    if not plan.jobs:
        return _summary(plan, None, out)
    for path in (plan.jobs[0].result_file, plan.jobs[0].times_file):
        problem = output_file_problem(path)  # every sequence would be tracked for nothing
        if problem is not None:
            raise CostcoreError(f"{path}: {problem}; nothing was tracked")
    if len(devices) > len(plan.jobs):
        devices = devices[: len(plan.jobs)]  # no idle worker loads an engine for nothing
    workers = f"{len(devices)} workers on {', '.join(devices)}" if len(devices) > 1 else devices[0]
    language = "; language: attribute words" if form is LanguageForm.ATTRIBUTES else ""
    print(f"{tracker}: engine {engine} ({workers}){language}", file=out)
    out.flush()
    reporter = RunReporter(tracker, len(plan.jobs), plan.frames_to_track)
    try:
        result = run_batch(
            plan.jobs, EngineSpec(engine, None if weights is None else str(weights)), devices,
            listener=reporter,
        )  # fmt: skip
    finally:
        reporter.close()
    return _summary(plan, result, out)
