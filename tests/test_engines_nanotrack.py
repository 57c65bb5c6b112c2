"""The NanoTrack engine reproduces the authors' tracker and OpenCV's TrackerNano, box for box.

**The authors' tracker** (``tests/fixtures/nanotrack/``), made outside the project; none of
the authors' code, and no script that runs it, is part of the project:

- Code: github.com/HonglinChu/SiamTrackers at commit 248663fde6bf7c40190cf10ee396d5662919ecd3,
  folder ``NanoTrack/`` (``git archive`` of ``nanotrack/`` and ``models/config/``), run on the
  CPU with Python 3.11.7, torch 2.13.0+cpu, numpy 2.4.6, opencv 5.1.0 and yacs 0.1.8 in a
  throw-away virtual environment.
- Stubbed: ``cfg.CUDA = False`` after loading the config (CPU crops); ``torch.load`` called
  with ``weights_only=False`` (torch 2.13's default refuses the numpy scalars in their files);
  for V2, ``nanotrack/models/head/__init__.py`` imports ``ban_v2`` instead of ``ban_v3`` (the
  authors switch it by hand). Nothing downloaded.
- Weights and settings: ``../shared/models/nanotrack/nanotrackv{2,3}/nanotrackv{2,3}.pth``
  (their released files) with ``models/config/configv{2,3}.yaml``; their ``ModelBuilder``,
  ``load_pretrain`` (no missing or unexpected keys) and ``build_tracker``.
- Frames: ``../shared/data/sequences/{Crossing,Skiing}/img/*.jpg`` read with ``cv2.imread``
  (BGR, as their ``bin/test.py``): Crossing frames 1-60, Skiing frames 1-81. Start box: the
  first ground-truth box ``(x, y, w, h)`` handed over as their ``bin/test.py`` does,
  ``[x + w/2 - (w-1)/2, y + h/2 - (h-1)/2, w, h]`` (so the tracker's centre is x + w/2).
- Files: ``authors_v{version}_{sequence}.txt``, one line per frame: ``x,y,w,h,score`` as the
  ``repr`` of the floats of ``outputs['bbox']`` and ``outputs['best_score']``; line 1 is the
  ground-truth start box (score ``nan``).

Our engine (default rules) reproduces them to 2.5e-4 px (V3 Skiing; V3 Crossing 1.0e-4 px,
V2 Crossing 9.0e-5 px) and the scores to 2.4e-7; the tests allow 0.01 px and 1e-5.

**OpenCV's TrackerNano** (OpenCV 5.1.0, installed with the project) runs live in the test with
the authors' V2 ONNX files (``params.backbone``/``params.neckhead``) on BGR frames, as an OpenCV
user runs it. It is a separate implementation of the tracker, and what OpenCV does differs
from the authors in ways we must match (:mod:`costcore.engines.nanotrack.rules`, selected by
``OPENCV_TRACKER_NANO``): centre ``x + w * 0.5`` from its integer Rect; template side
truncated; square crops cut at ``int(centre) - (side + 1) // 2``; padding with the current
frame's mean, rounded; RGB into the network (``swapRB``); ``createHanningWindow``; penalty
0.055, window influence 0.455, lr 0.37 hard-coded; float32 arithmetic; the result is the Rect
``int(cx - w/2), int(cy - h/2), int(w), int(h)``. Our engine with those rules gives the same
Rect on every frame of Crossing (120) and Skiing (81), and of 40 Crossing frames brightened by
5 grey levels per frame (there the padding colour matters: the first frame's would put 23
frames up to 9 px off): 0 px, within the 0.5 px allowed. The same holds, checked outside the
tests, on all 193 frames of truck4_1 and the first 600 of airplane-1.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")
cv2 = pytest.importorskip("cv2")

from costcore.boxes import Box  # noqa: E402
from costcore.engines import EngineError, available_engines, create_engine  # noqa: E402
from costcore.engines.frame_loop import track_frames  # noqa: E402
from costcore.engines.nanotrack import OPENCV_TRACKER_NANO  # noqa: E402
from costcore.engines.registry import engine_info  # noqa: E402
from costcore.formats import read_sequence  # noqa: E402
from costcore.video import open_frame_source  # noqa: E402
from tests.nanotrack_helpers import FIXTURES, real_frames, released_file  # noqa: E402

BOX_TOLERANCE = 0.01  # pixels
SCORE_TOLERANCE = 1e-5
OPENCV_TOLERANCE = 0.5  # pixels, on OpenCV's integer Rect


@pytest.fixture(autouse=True, scope="module")
def one_thread():
    """One intra-op thread: fast and steady on a shared machine."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def track(engine, sequence: str, count: int, start: Box | None = None):
    """The engine's results on the first ``count`` frames of a shared sequence."""
    frames, boxes = real_frames(sequence, count)
    engine.initialize(frames[0], start or boxes[0])
    return [engine.step(frame) for frame in frames[1:]]


@pytest.mark.parametrize(("version", "sequence"), [(3, "Crossing"), (3, "Skiing"), (2, "Crossing")])
def test_reproduces_the_authors_tracker(version: int, sequence: str) -> None:
    expected = np.loadtxt(FIXTURES / f"authors_v{version}_{sequence.lower()}.txt", delimiter=",")
    engine = create_engine("nanotrack", released_file(version), device="cpu")
    results = track(engine, sequence, len(expected), Box(*expected[0, :4]))
    boxes = np.array([result.box for result in results])
    scores = np.array([result.score for result in results])
    error = np.abs(boxes - expected[1:, :4]).max(axis=1)
    assert error.max() <= BOX_TOLERANCE, f"frames off by more than {BOX_TOLERANCE} px: {error}"
    assert np.abs(scores - expected[1:, 4]).max() <= SCORE_TOLERANCE


def opencv_tracker_nano():
    params = cv2.TrackerNano_Params()
    params.backbone = str(released_file(2, 1))
    params.neckhead = str(released_file(2, 2))
    return cv2.TrackerNano_create(params)


def opencv_rect(box: Box) -> tuple[int, int, int, int]:
    """The Rect OpenCV reports for a float state (C++ int casts truncate)."""
    cx, cy = box.x + box.w / 2, box.y + box.h / 2
    return int(cx - box.w / 2), int(cy - box.h / 2), int(box.w), int(box.h)


@pytest.mark.parametrize(
    ("sequence", "count", "brightening"),
    [("Crossing", 120, 0), ("Skiing", 81, 0), ("Crossing", 40, 5)],
)
def test_v2_reproduces_opencv_tracker_nano(sequence: str, count: int, brightening: int) -> None:
    """``brightening``: grey levels added per frame, so the padding colour OpenCV takes from
    each frame changes (Crossing's search squares pass the bottom edge)."""
    frames, boxes = real_frames(sequence, count)
    frames = [
        np.clip(frame.astype(np.int16) + brightening * (index - 12), 0, 255).astype(np.uint8)
        for index, frame in enumerate(frames)
    ]
    start = tuple(int(round(v)) for v in boxes[0])
    opencv = opencv_tracker_nano()
    opencv.init(cv2.cvtColor(frames[0], cv2.COLOR_RGB2BGR), start)
    ours = create_engine("nanotrack", released_file(2), device="cpu", config=OPENCV_TRACKER_NANO)
    ours.initialize(frames[0], Box(*start))
    authors = create_engine("nanotrack", released_file(2), device="cpu")
    authors.initialize(frames[0], Box(*start))
    deviations, authors_deviations = [], []
    for frame in frames[1:]:
        ok, rect = opencv.update(cv2.cvtColor(frame, cv2.COLOR_RGB2BGR))
        assert ok
        ours_rect = opencv_rect(ours.step(frame).box)
        deviations.append(max(abs(a - b) for a, b in zip(ours_rect, rect, strict=True)))
        authors_rect = opencv_rect(authors.step(frame).box)
        authors_deviations.append(max(abs(a - b) for a, b in zip(authors_rect, rect, strict=True)))
    assert len(deviations) == count - 1
    assert max(deviations) <= OPENCV_TOLERANCE, f"deviations (px): {deviations}"
    # the match comes from OpenCV's rules: the authors' rules do not give OpenCV's boxes
    assert max(authors_deviations) >= 2


def test_score_map_and_search_region() -> None:
    frames, boxes = real_frames("Crossing", 12)
    for version, side in ((3, 15), (2, 16)):
        engine = create_engine("nanotrack", released_file(version), device="cpu")
        engine.initialize(frames[0], boxes[0])
        previous = boxes[0]
        for frame in frames[1:]:
            result = engine.step(frame)
            score_map = result.score_map
            assert score_map.shape == (side, side) and score_map.dtype == np.float32
            assert score_map.min() >= 0.0 and score_map.max() <= 1.0
            # the frame's score is the raw probability of one cell of the map
            assert np.isclose(score_map, result.score, rtol=0, atol=1e-7).any()
            assert result.score > 0.9  # Crossing's pedestrian is easy in these frames
            # the search square: round(s_z * 255 / 127) pixels around the previous centre
            pad = 0.5 * (previous.w + previous.h)
            s_z = np.sqrt((previous.w + pad) * (previous.h + pad))
            region = result.search_region
            assert region.w == region.h == round(s_z * 255 / 127)
            (cx, cy), (rx, ry) = previous.center, region.center
            assert abs(rx - cx) <= 1.0 and abs(ry - cy) <= 1.0
            assert {"crop", "network", "prediction", "total"} <= set(result.timings_ms)
            assert not result.lost and result.engine == "nanotrack"
            previous = result.box


def test_registered_and_listed() -> None:
    assert "nanotrack" in available_engines()
    info = engine_info("nanotrack")
    assert info.takes_weights and "NanoTrack" in info.description
    with pytest.raises(EngineError, match="NanoTrack weights are not installed"):
        create_engine("nanotrack")  # conftest's empty weights cache
    with pytest.raises(EngineError, match="nanotrack"):
        create_engine("nanotrack", released_file(3), threshold=0.5)


def test_create_engine_end_to_end(crossing: Path) -> None:
    engine = create_engine("nanotrack", released_file(3), device="cpu")
    assert engine.name == "nanotrack" and engine.yields_score_map and engine.device == "cpu"
    assert engine.describe().startswith("nanotrack (cpu) - nanotrackv3.pth: NanoTrack V3")
    with pytest.raises(EngineError, match="initialize"):
        engine.step(np.zeros((32, 32, 3), np.uint8))
    with pytest.raises(EngineError, match="positive size"):
        engine.initialize(np.zeros((32, 32, 3), np.uint8), Box(4, 4, 0, 5))
    with pytest.raises(EngineError, match="outside the frame"):
        engine.initialize(np.zeros((32, 32, 3), np.uint8), Box(40, 4, 5, 5))
    with pytest.raises(EngineError, match="RGB frame"):
        engine.initialize(np.zeros((32, 32), np.uint8), Box(4, 4, 5, 5))

    sequence = read_sequence(crossing)
    source = open_frame_source(sequence.frames[:30])
    try:
        steps = list(track_frames(engine, source, Box(*sequence.boxes[0])))
    finally:
        source.close()
    boxes = np.array([step.result.box for step in steps])
    truth = np.array(sequence.boxes[:30])
    from costcore.boxes import iou

    assert len(steps) == 30 and iou(boxes, truth)[1:].mean() > 0.6


def test_reinitialising_restarts_cleanly() -> None:
    """A second initialize (the app re-propagates from every correction) forgets the first."""
    engine = create_engine("nanotrack", released_file(3), device="cpu")
    first = [r.box for r in track(engine, "Crossing", 8)]
    frames, boxes = real_frames("Skiing", 3)
    engine.initialize(frames[0], boxes[0])
    engine.step(frames[1])
    again = [r.box for r in track(engine, "Crossing", 8)]
    assert np.array_equal(np.array(first), np.array(again))


def test_cuda_when_asked() -> None:
    if not torch.cuda.is_available():
        with pytest.raises(EngineError, match="CUDA"):
            create_engine("nanotrack", released_file(3), device="cuda")
        return
    cpu = [
        r.box
        for r in track(create_engine("nanotrack", released_file(3), device="cpu"), "Crossing", 20)
    ]
    engine = create_engine("nanotrack", released_file(3), device="cuda")
    assert engine.device.startswith("cuda")
    results = track(engine, "Crossing", 20)
    assert np.abs(np.array([r.box for r in results]) - np.array(cpu)).max() < 0.05
    assert results[-1].score_map.dtype == np.float32


def test_track_cli(crossing: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from tests.test_cli_track import run_track

    weights = released_file(3)
    out = tmp_path / "Crossing.txt"
    args = ["--sequence", str(crossing), "--engine", "nanotrack", "--weights", str(weights)]
    assert run_track(*args, "--device", "cpu", "--out", str(out), "--max-frames", "20") == 0
    written = np.loadtxt(out, delimiter=",")
    expected = np.loadtxt(FIXTURES / "authors_v3_crossing.txt", delimiter=",")[:20, :4]
    assert written.shape == (20, 4)
    assert np.abs(written - expected).max() <= BOX_TOLERANCE + 0.0005  # %.3f in the file
    assert "nanotrack (cpu)" in capsys.readouterr().out


def test_a_larger_search_region_gives_a_larger_map() -> None:
    """instance_size is a setting: 287 px crops give 17 x 17 maps over a wider square."""
    engine = create_engine(
        "nanotrack", released_file(3), device="cpu", config={"instance_size": 287}
    )
    frames, boxes = real_frames("Crossing", 4)
    engine.initialize(frames[0], boxes[0])
    result = engine.step(frames[1])
    pad = 0.5 * (boxes[0].w + boxes[0].h)
    s_z = np.sqrt((boxes[0].w + pad) * (boxes[0].h + pad))
    assert result.score_map.shape == (17, 17)
    assert result.search_region.w == round(s_z * 287 / 127)
    assert abs(result.box.x - boxes[1].x) < 5 and abs(result.box.y - boxes[1].y) < 5


# --- weights from the per-user cache ---------------------------------------------------------

NOT_INSTALLED = (
    "NanoTrack weights are not installed: run `python -m costcore weights download "
    "nanotrack-v3` (or `... --from FILE` offline)"
)


def test_without_weights_the_best_installed_entry_is_taken() -> None:
    """The cache (conftest's, empty at first) filled from ../shared as `--from` would."""
    from costcore.engines import default_engine_name
    from costcore.weights import install_from

    v2, v3 = released_file(2), released_file(3)
    with pytest.raises(EngineError) as caught:
        create_engine("nanotrack", device="cpu")
    assert str(caught.value) == NOT_INSTALLED
    assert default_engine_name(None) == "csrt"

    install_from("nanotrack-v2", [v2.parent])
    assert default_engine_name(None) == "nanotrack"
    engine = create_engine("nanotrack", device="cpu")
    assert engine.version == 2
    assert engine.describe().startswith("nanotrack (cpu) - nanotrackv2.pth: NanoTrack V2")
    assert engine.describe().endswith("(weights cache: nanotrack-v2)")
    named = create_engine("nanotrack", v2, device="cpu")
    assert "weights cache" not in named.describe()
    cached_boxes = [r.box for r in track(engine, "Crossing", 6)]
    assert cached_boxes == [r.box for r in track(named, "Crossing", 6)]

    install_from("nanotrack-v3", [v3.parent])  # V3 is preferred once it is there
    engine = create_engine("nanotrack", device="cpu")
    assert engine.version == 3 and engine.describe().endswith("(weights cache: nanotrack-v3)")


def test_a_damaged_cached_file_is_passed_over_and_said(empty_weights_cache: Path) -> None:
    from costcore.weights import install_from

    v2, v3 = released_file(2), released_file(3)
    install_from("nanotrack-v3", [v3.parent])
    cached = empty_weights_cache / "nanotrack-v3" / "nanotrackv3.pth"
    cached.chmod(0o644)
    data = bytearray(cached.read_bytes())
    data[-1] ^= 0xFF  # one flipped byte: same size, other bytes
    cached.write_bytes(bytes(data))
    with pytest.raises(EngineError) as caught:
        create_engine("nanotrack", device="cpu")
    assert str(caught.value) == f"{NOT_INSTALLED} (nanotrack-v3 is corrupt)"
    install_from("nanotrack-v2", [v2.parent])
    assert create_engine("nanotrack", device="cpu").version == 2


def test_track_cli_defaults_to_nanotrack_when_installed(
    crossing: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from costcore import cli
    from costcore.weights import install_from

    out = tmp_path / "Crossing.txt"
    args = ["track", "--sequence", str(crossing), "--device", "cpu", "--out", str(out)]
    assert cli.main([*args, "--engine", "nanotrack", "--max-frames", "3"]) == 2
    assert NOT_INSTALLED in capsys.readouterr().err  # one line, no traceback
    install_from("nanotrack-v3", [released_file(3).parent])
    assert cli.main([*args, "--max-frames", "20"]) == 0
    assert "nanotrack (cpu) - nanotrackv3.pth: NanoTrack V3" in capsys.readouterr().out
    written = np.loadtxt(out, delimiter=",")
    expected = np.loadtxt(FIXTURES / "authors_v3_crossing.txt", delimiter=",")[:20, :4]
    assert np.abs(written - expected).max() <= BOX_TOLERANCE + 0.0005


def test_decoding_from_the_crop_actually_cut() -> None:
    """``decode="crop"`` adds the network's offsets to the centre of the integer square that
    was cut, at its real scale (255 / side), where the authors add them to the tracked centre
    at 127 / s_z: from the same start, the same crop and the same map, the two centres differ
    exactly by that change of reference (the authors' mode stays their tracker, see above)."""
    frames, boxes = real_frames("truck4_1", 6)
    authors = create_engine("nanotrack", released_file(2), device="cpu")
    cropped = create_engine("nanotrack", released_file(2), device="cpu", config={"decode": "crop"})
    assert cropped.config.decode == "crop" and authors.config.decode == "authors"
    start = boxes[0]
    authors.initialize(frames[0], start)
    cropped.initialize(frames[0], start)
    a, c = authors.step(frames[1]), cropped.step(frames[1])
    assert np.array_equal(a.score_map, c.score_map) and a.search_region == c.search_region
    pad = 0.5 * (start.w + start.h)
    s_z = np.sqrt((start.w + pad) * (start.h + pad))
    region = a.search_region
    for axis in (0, 1):
        offset = (a.box.center[axis] - start.center[axis]) * (127 / s_z)  # crop pixels
        expected = region.center[axis] + offset / (255 / region.w)
        assert abs(c.box.center[axis] - expected) < 1e-3  # float32 boxes
    # the square's rounding moved it off the tracked centre: the modes really differ here
    assert abs(region.center[0] - start.center[0]) + abs(region.center[1] - start.center[1]) > 0.1
    for frame in frames[2:]:
        assert abs(cropped.step(frame).box.x - authors.step(frame).box.x) < 2.0


class ThreadProbe:
    """Stands in for the engine's network and records torch's thread count where it runs."""

    def __init__(self, network) -> None:
        self.network = network
        self.seen: list[int] = []

    def set_template(self, template):
        self.seen.append(torch.get_num_threads())
        return self.network.set_template(template)

    def track(self, search):
        self.seen.append(torch.get_num_threads())
        return self.network.track(search)


@pytest.mark.parametrize(("threads", "inside"), [(1, 1), (None, 2)])
def test_the_engine_runs_with_its_own_thread_count(threads: int | None, inside: int) -> None:
    """One intra-op thread for the engine's work by default, the caller's count untouched."""
    frames, boxes = real_frames("Crossing", 3)
    engine = create_engine("nanotrack", released_file(2), device="cpu", threads=threads)
    probe = ThreadProbe(engine.network)
    engine.network = probe
    before = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        engine.initialize(frames[0], boxes[0])
        engine.step(frames[1])
        assert torch.get_num_threads() == 2
    finally:
        torch.set_num_threads(before)
    assert probe.seen == [inside, inside]


def test_a_bad_thread_count_is_refused() -> None:
    for bad in (0, -1, 1.5, True):
        with pytest.raises(EngineError, match="threads must be a positive integer"):
            create_engine("nanotrack", released_file(2), device="cpu", threads=bad)
