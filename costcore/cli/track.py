"""``python -m costcore track``: run a tracking engine over a video, image folder or sequence.

Writes the toolkit's result format (``x,y,w,h`` with ``%.3f``, one line per frame, line 1 the
initial box), optionally the per-frame times (``%.8f`` seconds) and a video with the boxes drawn,
so an engine can be benchmarked and eyeballed without the app.

The engine reads the sentence (``--text``, default the sequence's) or, with ``--language-form
attributes``, VLT's four attribute words (``--language-attributes``, default the sequence's
``language_attributes.txt``), given to it as one phrase.
"""

from __future__ import annotations

import argparse
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
from costcore.errors import CostcoreError
from costcore.language import LanguageForm, LanguageInput

#: colour of the drawn box, RGB; deliberately not symmetric under an RGB/BGR swap
BOX_COLOR_RGB = (255, 64, 0)
#: colour of the box on frames where the engine reported losing the target (its last box)
LOST_COLOR_RGB = (200, 200, 200)
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
    add_attribute_words(parser, "default: the sequence's language_attributes.txt")
    add_language_form(
        parser, "default: attributes when --language-attributes is given, else sentence"
    )
    parser.add_argument(
        "--engine", help=f"one of: {engines} (default: cost with --weights, else csrt)"
    )
    parser.add_argument(
        "--weights",
        type=Path,
        help="the engine's weights: COST checkpoint folder or TransT .pth; for allinone, "
        "vlt_tt and nanotrack the authors' checkpoint file (e.g. nanotrackv3.pth) or a folder "
        "with it",
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
    """Writes RGB frames with a box drawn to a video file (BGR for OpenCV, the input's fps)."""

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

    def write(self, frame: np.ndarray, box: Box, lost: bool = False) -> None:
        import cv2

        canvas = np.ascontiguousarray(frame).copy()
        left, top = round(box.x), round(box.y)
        right, bottom = round(box.x + box.w) - 1, round(box.y + box.h) - 1
        color = LOST_COLOR_RGB if lost else BOX_COLOR_RGB
        cv2.rectangle(canvas, (left, top), (right, bottom), color, self._thickness)
        self._writer.write(cv2.cvtColor(canvas, cv2.COLOR_RGB2BGR))

    def close(self) -> None:
        self._writer.release()


def _language_form(args: argparse.Namespace) -> LanguageForm:
    if args.language_form is not None:
        return LanguageForm.parse(args.language_form)
    if args.language_attributes is not None:
        return LanguageForm.ATTRIBUTES
    return LanguageForm.SENTENCE


def run_track(args: argparse.Namespace) -> int:
    """Track, write the results (and times, video), and report speed and engine."""
    from costcore.engines.registry import create_engine, default_engine_name, engine_info
    from costcore.engines.run import track_frames

    source, name, sequence_box, sequence_language = _open_input(args)
    try:
        box = Box(*args.bbox) if args.bbox is not None else sequence_box
        if box is None:
            raise CostcoreError(
                "--bbox X Y W H is required with --frames and --video "
                "(and for sequences whose first frame has no box)"
            )
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
        out = args.out if args.out is not None else Path(f"{name}.txt")
        writer = (
            BoxVideoWriter(args.save_video, source.fps, source.frame_size)
            if args.save_video is not None
            else None
        )
        boxes: list[Box] = []
        seconds: list[float] = []
        lost_frames = 0
        progress = ProgressBar(f"track {name}")
        started = time.perf_counter()
        try:
            for step in track_frames(engine, source, box, language, stop=count):
                lost = step.result.lost
                lost_frames += lost
                boxes.append(Box(*step.result.box))
                seconds.append(step.seconds)
                if writer is not None:
                    writer.write(step.frame, step.result.box, lost)
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

    write_results(out, boxes)
    if args.times is not None:
        write_times(args.times, seconds)

    tracked = max(len(seconds) - 1, 0)
    engine_fps = tracked / max(sum(seconds[1:]), 1e-9)
    print(f"engine: {engine.describe()} - {info.description}")
    if form is LanguageForm.ATTRIBUTES:
        print(f"language (attribute words): {text}")
    print(
        f"{len(boxes)} frames, {engine_fps:.1f} FPS tracking, {len(boxes) / wall:.1f} FPS overall"
        + (f", target lost on {lost_frames} frames" if lost_frames else "")
    )
    print(f"results: {out}")
    if args.times is not None:
        print(f"times: {args.times}")
    if args.save_video is not None:
        print(f"video: {args.save_video}")
    return 0
