"""``python -m costcore track``: run a tracking engine over a video, image folder or sequence.

Writes the toolkit's result format (``x,y,w,h`` with ``%.3f``, one line per frame, line 1 the
initial box), optionally the per-frame times (``%.8f`` seconds) and a video with the box, the
score and the frame number drawn (LiteTrack's demo), and reports frames, speed and peak memory,
so an engine can be benchmarked and eyeballed without the app.

A damaged video (frames its container declares that do not decode) is tracked over the frames
that do, with a warning naming the missing ones, and the exit code is 1: the results are
written but shorter than the video, which a script must not take for a complete run.

Without a box (no ``--bbox`` and no first ground-truth box, or ``--ground``), an engine that can
find the target from a sentence (``uvltrack``) grounds ``--text`` on the first frame and tracks
from there (UVLTrack's NL mode); other engines are a clear error.

The engine reads the sentence (``--text``, default the sequence's) or, with ``--language-form
attributes``, VLT's four attribute words (``--language-attributes``, default the sequence's
``language_attributes.txt``), given to it as one phrase.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import time
from pathlib import Path

import numpy as np

from costcore.boxes import Box
from costcore.cli.language_options import add_attribute_words, add_language_form
from costcore.cli.progress import ProgressBar
from costcore.engines.result_files import (  # noqa: F401  (format_* re-exported)
    format_results,
    format_times,
    write_results,
    write_times,
)
from costcore.engines.run_report import RunReport, cuda_peak_bytes, peak_rss_bytes, reset_cuda_peak
from costcore.errors import CostcoreError
from costcore.fileio import output_file_problem
from costcore.language import LanguageForm, LanguageInput

#: colour of the drawn box, RGB; deliberately not symmetric under an RGB/BGR swap
BOX_COLOR_RGB = (255, 64, 0)
#: colour of the box on frames where the engine reported losing the target (its last box)
LOST_COLOR_RGB = (200, 200, 200)
#: colour of the frame number in the corner
LABEL_COLOR_RGB = (255, 255, 255)
_DEVICE_PATTERN = re.compile(r"^(auto|cpu|cuda(:\d+)?)$")


def _device(value: str) -> str:
    if not _DEVICE_PATTERN.match(value):
        raise argparse.ArgumentTypeError(f"expected auto, cpu, cuda or cuda:N, got {value!r}")
    return value


def _positive_int(value: str) -> int:
    number = int(value)
    if number < 1:
        raise argparse.ArgumentTypeError(f"expected a positive number of frames, got {value}")
    return number


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``track`` subcommand."""
    from costcore.engines.registry import available_engines

    engines = ", ".join(available_engines())
    parser = subparsers.add_parser(
        "track",
        help="track one target through a video, image folder or dataset sequence",
        description=__doc__,
    )
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--frames", metavar="DIR", type=Path, help="a folder of images")
    source.add_argument("--video", metavar="FILE", type=Path, help="a video file")
    source.add_argument(
        "--sequence",
        metavar="DIR",
        type=Path,
        help="a dataset sequence (VL-SOT500, LaSOT, TNL2K, OTB, UAV123, GOT-10k)",
    )
    parser.add_argument(
        "--bbox",
        nargs=4,
        type=float,
        metavar=("X", "Y", "W", "H"),
        help="initial box on the first frame (default for --sequence: its first gt box)",
    )
    parser.add_argument("--text", help="language description (default: the sequence's, else empty)")
    parser.add_argument(
        "--ground",
        action="store_true",
        help="find the first box from the sentence even when the sequence has one (engines that "
        "can, e.g. uvltrack; without --bbox and a first box this happens by itself)",
    )
    add_attribute_words(parser, "default: the sequence's language_attributes.txt")
    add_language_form(
        parser, "default: attributes when --language-attributes is given, else sentence"
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
        "vlt_tt, uvltrack and nanotrack the authors' checkpoint file (e.g. nanotrackv3.pth) or "
        "a folder with it",
    )
    parser.add_argument("--device", type=_device, default="auto", help="auto, cpu or cuda")
    parser.add_argument(
        "--out", type=Path, help="results file (default: <input name>.txt in the current folder)"
    )
    parser.add_argument("--times", type=Path, help="also write per-frame seconds, one per line")
    parser.add_argument("--save-video", type=Path, metavar="FILE", help="write the boxes drawn")
    parser.add_argument(
        "--max-frames", type=_positive_int, metavar="N", help="track only the first N frames"
    )
    parser.set_defaults(handler=run_track)


def _open_input(args: argparse.Namespace) -> tuple[object, str, Box | None, LanguageInput]:
    """The frame source, a name for it, and the sequence's first box and language when it has
    them."""
    from costcore.video import open_frame_source

    if args.sequence is not None:
        from costcore.formats import read_sequence

        sequence = read_sequence(args.sequence)
        box = None
        if len(sequence.boxes) and not sequence.absent[0]:
            box = Box(*(float(v) for v in sequence.boxes[0]))
        source = open_frame_source(sequence.frames, prefetch=4)
        language = LanguageInput(sequence.language, sequence.language_attributes)
        return source, sequence.name, box, language
    path = Path(args.frames if args.frames is not None else args.video)
    source = open_frame_source(path, prefetch=4)
    name = path.stem if args.video is not None else path.name
    if args.frames is not None and name.lower() in ("img", "imgs"):  # <sequence>/img/
        name = path.resolve().parent.name
    return source, name or "results", None, LanguageInput()


class BoxVideoWriter:
    """Writes RGB frames with the box, its score and the frame number drawn to a video file
    (BGR for OpenCV, the input's fps)."""

    def __init__(self, path: Path, fps: float, frame_size: tuple[int, int]) -> None:
        import cv2

        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        codec = "MJPG" if path.suffix.lower() == ".avi" else "mp4v"
        self._writer = cv2.VideoWriter(
            str(path), cv2.VideoWriter_fourcc(*codec), float(fps), tuple(frame_size)
        )
        if not self._writer.isOpened():
            raise CostcoreError(f"{path}: cannot write a video here (codec {codec})")
        self._thickness = max(2, round(min(frame_size) / 240))
        self._font_scale = max(0.4, min(frame_size) / 600)

    def write(
        self,
        frame: np.ndarray,
        box: Box,
        lost: bool = False,
        score: float | None = None,
        frame_number: int | None = None,
    ) -> None:
        """Draw the box, the score above it (when there is one) and the frame number."""
        import cv2

        canvas = np.ascontiguousarray(frame).copy()
        left, top = round(box.x), round(box.y)
        right, bottom = round(box.x + box.w) - 1, round(box.y + box.h) - 1
        color = LOST_COLOR_RGB if lost else BOX_COLOR_RGB
        if frame_number is not None:
            self._label(canvas, str(frame_number), 4, 4, LABEL_COLOR_RGB)
        if score is not None:
            text = f"{score:.2f}"
            height = self._text_size(text)[1]
            gap = self._thickness + 3
            above = top - gap - height
            self._label(canvas, text, left, above if above >= 0 else bottom + gap, color)
        cv2.rectangle(canvas, (left, top), (right, bottom), color, self._thickness)
        self._writer.write(cv2.cvtColor(canvas, cv2.COLOR_RGB2BGR))

    def _text_size(self, text: str) -> tuple[int, int]:
        import cv2

        weight = max(1, self._thickness // 2)
        (width, height), _ = cv2.getTextSize(
            text, cv2.FONT_HERSHEY_SIMPLEX, self._font_scale, weight
        )
        return width, height

    def _label(self, canvas: np.ndarray, text: str, x: int, y: int, color) -> None:  # noqa: ANN001
        """``text`` with a dark outline, its top-left corner at (x, y), kept inside the frame."""
        import cv2

        width, height = self._text_size(text)
        x = min(max(x, 0), canvas.shape[1] - width)
        baseline = min(max(y, 0), canvas.shape[0] - height - 3) + height
        weight = max(1, self._thickness // 2)
        for ink, thick in (((0, 0, 0), weight + 2), (color, weight)):
            cv2.putText(canvas, text, (x, baseline), cv2.FONT_HERSHEY_SIMPLEX, self._font_scale,
                        ink, thick, cv2.LINE_AA)  # fmt: skip

    def close(self) -> None:
        self._writer.release()


def check_outputs(out: Path, times: Path | None, video: Path | None) -> None:
    """Refuse output paths that could not be written, before any frame is tracked.

    The results are written after the last frame; a read-only folder or a folder given as
    ``--out`` found only then would throw the whole run away.
    """
    named = [("--out", out), ("--times", times), ("--save-video", video)]
    given = [(option, path) for option, path in named if path is not None]
    seen: dict[str, str] = {}
    for option, path in given:
        problem = output_file_problem(path)
        if problem is not None:
            raise CostcoreError(f"{option} {path}: {problem}; nothing was tracked")
        key = os.path.normcase(os.path.abspath(path))
        if key in seen:
            raise CostcoreError(f"{option} and {seen[key]} name the same file {path}")
        seen[key] = option


def _check_grounding(engine: str, can_ground: bool, has_text: bool, asked: bool) -> None:
    """Without a box the engine must find the target from a sentence: say plainly when not."""
    if not has_text:
        if asked:
            raise CostcoreError("--ground needs a sentence: give --text (or a sequence with one)")
        raise CostcoreError(
            "--bbox X Y W H is required with --frames and --video (and for sequences whose "
            "first frame has no box), unless --text describes the target for an engine that "
            "can find it (uvltrack)"
        )
    if not can_ground:
        raise CostcoreError(f"engine '{engine}' cannot find a target from a sentence; give --bbox")


def _language_form(args: argparse.Namespace) -> LanguageForm:
    if args.language_form is not None:
        return LanguageForm.parse(args.language_form)
    if args.language_attributes is not None:
        return LanguageForm.ATTRIBUTES
    return LanguageForm.SENTENCE


def run_track(args: argparse.Namespace) -> int:
    """Track, write the results (and times, video), and report engine, speed and memory."""
    from costcore.engines.frame_loop import track_frames
    from costcore.engines.registry import create_engine, default_engine_name, engine_info

    if args.ground and args.bbox is not None:
        raise CostcoreError("--ground finds the first box from the sentence: drop --bbox")
    source, name, sequence_box, sequence_language = _open_input(args)
    try:
        out = args.out if args.out is not None else Path(f"{name}.txt")
        check_outputs(out, args.times, args.save_video)
        damage = source.damage  # a damaged video: said before tracking, and the exit code is 1
        if damage is not None:
            print(f"warning: {damage.describe()}", file=sys.stderr)
        box = Box(*args.bbox) if args.bbox is not None else sequence_box
        if args.ground:
            box = None
        language = LanguageInput(
            args.text if args.text is not None else sequence_language.sentence,
            args.language_attributes or sequence_language.attributes,
        )
        form = _language_form(args)
        if form is LanguageForm.ATTRIBUTES and not language.has(form):
            raise CostcoreError(
                "--language-form attributes needs attribute words: give --language-attributes "
                "or use a sequence with language_attributes.txt"
            )
        engine_name = args.engine or default_engine_name(args.weights)
        info = engine_info(engine_name)
        if box is None:
            _check_grounding(engine_name, info.can_ground, language.has(form), args.ground)
        if args.weights is not None and not info.takes_weights:
            print(
                f"note: engine '{engine_name}' uses no weights; ignoring --weights", file=sys.stderr
            )
        engine = create_engine(
            engine_name, weights=args.weights, device=args.device, language_form=form
        )
        text = engine.language_text(language)  # what the engine reads, for the report

        count = source.frame_count
        if args.max_frames is not None:
            count = min(count, args.max_frames)
        writer = (
            BoxVideoWriter(args.save_video, source.fps, source.frame_size)
            if args.save_video is not None
            else None
        )
        boxes: list[Box] = []
        seconds: list[float] = []
        lost_frames = 0
        found = None
        progress = ProgressBar(f"track {name}")
        reset_cuda_peak(engine.device)
        started = time.perf_counter()
        try:
            for step in track_frames(engine, source, box, language, stop=count):
                result, lost = step.result, step.result.lost
                lost_frames += lost
                found = result if step.grounded else found
                boxes.append(Box(*result.box))
                seconds.append(step.seconds)
                if writer is not None:
                    writer.write(step.frame, result.box, lost, result.score, step.index + 1)
                progress(len(boxes), count)
        except BaseException:
            if writer is not None:  # no half-written video left behind
                writer.close()
                args.save_video.unlink(missing_ok=True)
            raise
        if writer is not None:
            writer.close()
        wall = time.perf_counter() - started
    finally:
        source.close()

    try:
        write_results(out, boxes)
        if args.times is not None:
            write_times(args.times, seconds)
    except OSError as error:  # checked before tracking; the disk can still fill up
        raise CostcoreError(f"cannot write the results: {error}") from None

    report = RunReport(
        len(boxes), sum(seconds[1:]), wall, peak_rss_bytes(), cuda_peak_bytes(engine.device),
        lost_frames,
    )  # fmt: skip
    print(f"engine: {engine.describe()} - {info.description}")
    if form is LanguageForm.ATTRIBUTES:
        print(f"language (attribute words): {text}")
    if found is not None:
        score = "" if found.score is None else f" (score {found.score:.2f})"
        print(f"target found from the sentence: {format_results([found.box]).strip()}{score}")
    for line in report.lines():
        print(line)
    print(f"results: {out}")
    if args.times is not None:
        print(f"times: {args.times}")
    if args.save_video is not None:
        print(f"video: {args.save_video}")
    if damage is not None:
        print(
            f"warning: the results cover the {source.frame_count} decodable frames of a "
            f"damaged video ({damage.missing_count} missing); exit code 1",
            file=sys.stderr,
        )
        return 1
    return 0
