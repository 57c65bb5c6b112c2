"""Template/search pairs: sampling, TransT-style crops with jitter, photometric augmentation.

One sample (TransT's sampler and processing, with our tracker's crop geometry):

1. a sequence uniformly at random, a template frame among its visible frames, a search frame
   among the visible frames at most ``max_gap`` frames away (another frame when there is one);
2. each box is jittered (pytracking's ``_get_jittered_box``: size x exp(N(0, s)) per side,
   centre + U(-0.5, 0.5) x c x sqrt(w h)) and cropped around with
   :class:`costcore.crops.transt.SearchCrop` - TransT's side and box mapping, which the tracker
   uses online too (factor 2 -> template_size, factor 4 -> search_size, outside pixels filled
   with the frame's mean), sampled at sub-pixel precision: the jittered boxes are continuous,
   and the label then matches the pixels exactly (the tracker cuts whole pixels, as TransT);
3. the label is the true box in the search crop, normalised (cx, cy, w, h), via
   :meth:`SearchCrop.to_crop`;
4. brightness x U(1 - b, 1 + b) per crop, and with probability p both crops in grayscale.
   No flips: a flip would contradict descriptions such as "moving left".

Every random choice of sample ``i`` comes from ``numpy.random.default_rng([seed, i])``, so a
sample is a pure function of its id: the data stream does not depend on the number of loader
workers, and resuming at step k replays exactly the samples an uninterrupted run would have
seen. Sample ids are laid out by :class:`StepBatchSampler`.
"""

from __future__ import annotations

import contextlib
import math
import signal
import warnings
from collections import OrderedDict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np
import torch
from torch.utils.data import Dataset, Sampler

from costcore.boxes import Box
from costcore.crops.transt import SearchCrop
from costcore.errors import VideoError
from costcore.model.config import COSTConfig
from costcore.training.config import TrainingConfig
from costcore.training.sequences import TrainingSequence
from costcore.video import open_uncached
from costcore.video.base import FrameSource

#: frame sources kept open per data worker (each holds only a file list)
_OPEN_SOURCES = 64
#: pairs drawn for one sample before an unreadable frame becomes an error
_ATTEMPTS = 10


@dataclass(frozen=True)
class PairChoice:
    """Which frames a sample uses."""

    sequence: int
    template_frame: int
    search_frame: int


def choose_pair(
    sequences: Sequence[TrainingSequence], max_gap: int, rng: np.random.Generator
) -> PairChoice:
    """A sequence, a visible template frame and a visible search frame within ``max_gap``."""
    index = int(rng.integers(len(sequences)))
    visible = sequences[index].visible_frames
    template = int(visible[rng.integers(len(visible))])
    near = visible[(np.abs(visible - template) <= max_gap) & (visible != template)]
    search = int(near[rng.integers(len(near))]) if len(near) else template
    return PairChoice(index, template, search)


def jitter_box(
    box: Box, center_jitter: float, scale_jitter: float, rng: np.random.Generator
) -> Box:
    """pytracking's jittered box: each side x exp(N(0, scale_jitter)), then the centre moved
    by up to +-center_jitter/2 x sqrt(w h) of the jittered size, per axis."""
    w = box.w * math.exp(rng.normal() * scale_jitter) if scale_jitter else box.w
    h = box.h * math.exp(rng.normal() * scale_jitter) if scale_jitter else box.h
    cx, cy = box.center
    if center_jitter:
        max_offset = math.sqrt(w * h) * center_jitter
        cx += max_offset * (rng.random() - 0.5)
        cy += max_offset * (rng.random() - 0.5)
    return Box(cx - w / 2.0, cy - h / 2.0, w, h)


def frame_fill(frame: np.ndarray) -> tuple[float, float, float]:
    """The colour outside the image: the frame's mean, as the tracker pads."""
    return tuple(float(c) for c in frame.reshape(-1, 3).mean(axis=0))


def to_grayscale(crop: np.ndarray) -> np.ndarray:
    """RGB -> three equal channels (ITU-R 601 luma, as cv2 and torchvision do)."""
    luma = crop.astype(np.float32) @ np.array([0.299, 0.587, 0.114], dtype=np.float32)
    return np.repeat(luma[..., None], 3, axis=2)


def to_tensor(crop: np.ndarray, brightness: float) -> torch.Tensor:
    """``(H, W, 3)`` RGB -> float ``(3, H, W)`` in [0, 1], times ``brightness`` (clamped)."""
    array = np.ascontiguousarray(crop, dtype=np.float32).transpose(2, 0, 1)
    tensor = torch.from_numpy(array.copy()).mul_(brightness / 255.0)
    return tensor.clamp_(0.0, 1.0)


class PairDataset(Dataset):
    """Sample ``i`` -> one training pair (a dict, see :func:`collate_pairs`).

    Map-style over the unbounded sample ids handed out by :class:`StepBatchSampler`.
    Frames are read through :mod:`costcore.video` frame sources, opened lazily per worker.
    """

    def __init__(
        self,
        sequences: Sequence[TrainingSequence],
        model_config: COSTConfig,
        training: TrainingConfig,
        seed: int | None = None,
    ) -> None:
        if not sequences:
            raise ValueError("no training sequences")
        self.sequences = list(sequences)
        self.model_config = model_config
        self.training = training
        self.seed = training.seed if seed is None else seed
        self._sources: OrderedDict[int, FrameSource] = OrderedDict()

    def __len__(self) -> int:
        return 2**62  # unbounded: StepBatchSampler decides which ids are used

    def __getstate__(self) -> dict[str, object]:
        state = dict(self.__dict__)
        state["_sources"] = OrderedDict()  # sources are reopened in each worker
        return state

    def rng(self, sample_id: int) -> np.random.Generator:
        return np.random.default_rng([self.seed, int(sample_id)])

    def frame(self, sequence_index: int, frame_index: int) -> np.ndarray:
        source = self._sources.get(sequence_index)
        if source is None:
            source = open_uncached(self.sequences[sequence_index].frames)
            self._sources[sequence_index] = source
            if len(self._sources) > _OPEN_SOURCES:
                _, oldest = self._sources.popitem(last=False)
                oldest.close()
        else:
            self._sources.move_to_end(sequence_index)
        return source.frame(frame_index)

    def __getitem__(self, sample_id: int) -> dict[str, object]:
        rng = self.rng(sample_id)
        for attempt in range(_ATTEMPTS):
            choice = choose_pair(self.sequences, self.training.max_gap, rng)
            try:
                return self._sample(choice, rng, sample_id)
            except VideoError as error:
                # one unreadable frame must not end a days-long run: draw another pair
                # (from the same generator, so the sample stays a function of its id)
                if attempt == _ATTEMPTS - 1:
                    raise
                warnings.warn(f"skipping an unreadable frame: {error}", stacklevel=2)
        raise AssertionError("unreachable")

    def _sample(
        self, choice: PairChoice, rng: np.random.Generator, sample_id: int
    ) -> dict[str, object]:
        cfg, train = self.model_config, self.training
        sequence = self.sequences[choice.sequence]
        template_frame = self.frame(choice.sequence, choice.template_frame)
        search_frame = self.frame(choice.sequence, choice.search_frame)
        template_box = Box(*(float(v) for v in sequence.boxes[choice.template_frame]))
        search_box = Box(*(float(v) for v in sequence.boxes[choice.search_frame]))
        template_jittered = jitter_box(
            template_box, train.template_center_jitter, train.template_scale_jitter, rng
        )
        search_jittered = jitter_box(
            search_box, train.search_center_jitter, train.search_scale_jitter, rng
        )
        template_crop = SearchCrop.around(template_jittered, cfg.template_factor, cfg.template_size)
        search_crop = SearchCrop.around(search_jittered, cfg.search_factor, cfg.search_size)
        crops = [
            template_crop.extract(template_frame, frame_fill(template_frame)),
            search_crop.extract(search_frame, frame_fill(search_frame)),
        ]
        if rng.random() < train.grayscale_probability:
            crops = [to_grayscale(crop) for crop in crops]
        b = train.brightness_jitter
        template, search = (to_tensor(c, rng.uniform(1.0 - b, 1.0 + b)) for c in crops)
        return {
            "template": template,
            "search": search,
            "box": torch.tensor(search_crop.to_crop(search_box), dtype=torch.float32),
            "text": sequence.language,
            "has_language": sequence.has_language,
            "sample_id": int(sample_id),
        }


def collate_pairs(samples: list[dict[str, object]]) -> dict[str, object]:
    """Stack a list of samples: tensors ``template``, ``search``, ``boxes``, ``has_language``,
    ``sample_ids`` and the list ``texts``."""
    return {
        "template": torch.stack([s["template"] for s in samples]),
        "search": torch.stack([s["search"] for s in samples]),
        "boxes": torch.stack([s["box"] for s in samples]),
        "texts": [str(s["text"]) for s in samples],
        "has_language": torch.tensor([bool(s["has_language"]) for s in samples]),
        "sample_ids": torch.tensor([int(s["sample_id"]) for s in samples]),
    }


class StepBatchSampler(Sampler[list[int]]):
    """The sample ids of optimizer steps ``start_step .. end_step - 1`` for one process.

    Step s, forward pass m (of ``accumulate``), process r (of ``world_size``) gets the ids
    ``((s * accumulate + m) * world_size + r) * batch_size + [0, batch_size)``: every id is
    used once, by one process, and step s's ids do not depend on where a run started.
    """

    def __init__(
        self,
        start_step: int,
        end_step: int,
        batch_size: int,
        accumulate: int = 1,
        rank: int = 0,
        world_size: int = 1,
    ) -> None:
        self.start_step, self.end_step = start_step, end_step
        self.batch_size, self.accumulate = batch_size, accumulate
        self.rank, self.world_size = rank, world_size

    def batch_ids(self, step: int, micro: int) -> list[int]:
        first = ((step * self.accumulate + micro) * self.world_size + self.rank) * self.batch_size
        return list(range(first, first + self.batch_size))

    def __iter__(self) -> Iterator[list[int]]:
        for step in range(self.start_step, self.end_step):
            for micro in range(self.accumulate):
                yield self.batch_ids(step, micro)

    def __len__(self) -> int:
        return max(0, self.end_step - self.start_step) * self.accumulate


@contextlib.contextmanager
def fork_safe_opencv() -> Iterator[None]:
    """OpenCV single-threaded while data workers are forked and alive (restored after).

    A worker forked while OpenCV's thread pool exists inherits the pool's locks but not its
    threads, and its first parallel OpenCV call (or ``cv2.setNumThreads``) can wait forever.
    With one thread in the parent there is no pool to inherit; the workers run in parallel
    anyway, one crop each.
    """
    import cv2

    previous = cv2.getNumThreads()
    cv2.setNumThreads(1)
    try:
        yield
    finally:
        cv2.setNumThreads(previous)


def init_data_worker(worker_id: int) -> None:
    """Data workers leave Ctrl-C and SIGTERM to the main process, which stops cleanly and
    shuts them down (a worker killed by the signal would break the step in progress)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
