"""The training data pipeline: sequences and descriptions, pair sampling, crops and labels."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest
import torch
from torch.utils.data import DataLoader

from costcore.errors import FormatError
from costcore.formats import write_vlsot500
from costcore.model.testing import tiny_config
from costcore.training import (
    PairDataset,
    StepBatchSampler,
    TrainingConfig,
    collate_pairs,
    got10k_pseudo_language,
    load_training_sequences,
    positive_cells,
)
from costcore.training.data import choose_pair, fork_safe_opencv, init_data_worker
from costcore.training.synthetic import ArrayFrameSource

MAGENTA = (255, 0, 255)
GREY = 110


def _magenta_video(folder: Path, rng: np.random.Generator, frames: int = 30) -> Path:
    """Flat grey frames with the target box painted magenta; every 5th frame absent (hidden)."""
    width, height = 200, 150
    images, boxes = [], []
    absent = np.zeros(frames, dtype=bool)
    absent[::5] = True
    absent[1] = False
    for index in range(frames):
        w, h = (int(v) for v in rng.integers(8, 40, 2))
        x, y = int(rng.integers(0, width - w)), int(rng.integers(0, height - h))  # in the frame
        image = np.full((height, width, 3), GREY, np.uint8)
        if not absent[index]:
            cv2.rectangle(image, (x, y), (x + w - 1, y + h - 1), MAGENTA, -1)
        images.append(image)
        boxes.append((x, y, w, h))
    return write_vlsot500(
        folder, frames=ArrayFrameSource(images), boxes=boxes, absent=absent,
        language="a magenta box", attributes=[0] * 17,
    )  # fmt: skip


def _magenta_mask(crop: torch.Tensor) -> np.ndarray:
    red, green, blue = (crop.numpy() * 255.0).astype(np.float32)
    return (red - green > 90) & (blue - green > 90)


@pytest.fixture(scope="module")
def magenta_sequences(tmp_path_factory: pytest.TempPathFactory):
    root = tmp_path_factory.mktemp("magenta")
    rng = np.random.default_rng(5)
    _magenta_video(root / "a", rng)
    _magenta_video(root / "b", rng)
    sequences, report = load_training_sequences([root])
    assert report.used == 2
    return sequences


def test_crops_put_the_target_where_the_labels_say(magenta_sequences, tmp_path: Path) -> None:
    """TransT jitter on, photometric changes off: the painted box is where the label is, its
    positive cells are painted, and the template crop is centred on the target."""
    config = tiny_config(tmp_path)  # 64 px template, 128 px search
    training = TrainingConfig(brightness_jitter=0.0, grayscale_probability=0.0)
    dataset = PairDataset(magenta_sequences, config, training, seed=3)
    side = 16  # a 16x16 score map over the 128 px search crop: 8 px cells
    size = config.search_size
    centres = (np.arange(side) + 0.5) * size / side
    offsets = []
    for sample_id in range(60):
        sample = dataset[sample_id]
        cx, cy, w, h = (sample["box"].numpy() * size).tolist()
        # the same frames again (the pair is the first thing drawn from the sample's rng)
        choice = choose_pair(dataset.sequences, training.max_gap, dataset.rng(sample_id))
        frame_w = dataset.sequences[choice.sequence].boxes[choice.search_frame][2]
        # the painted region is the labelled box, within the blur of one frame pixel
        # (bilinear resampling + JPEG edges) in crop pixels
        tolerance = 1.0 + 0.6 * w / frame_w
        mask = _magenta_mask(sample["search"])
        assert mask.any(), "an absent frame was used as a search frame"
        rows, cols = np.nonzero(mask)
        x0, x1 = max(cx - w / 2, 0), min(cx + w / 2, size)
        y0, y1 = max(cy - h / 2, 0), min(cy + h / 2, size)
        assert abs(cols.min() - x0) <= tolerance and abs(cols.max() + 1 - x1) <= tolerance
        assert abs(rows.min() - y0) <= tolerance and abs(rows.max() + 1 - y1) <= tolerance
        # positive cells lie on the painted target; painted cells (away from its blurred
        # edge) are positive
        positive = positive_cells(sample["box"][None], side)[0].reshape(side, side).numpy()
        assert positive.any()
        px0, px1, py0, py1 = cols.min(), cols.max() + 1, rows.min(), rows.max() + 1
        on_x = (centres >= px0 - tolerance) & (centres <= px1 + tolerance)
        on_y = (centres >= py0 - tolerance) & (centres <= py1 + tolerance)
        if positive.sum() > 1:  # (a lone positive may be the centre cell of a tiny box)
            assert not (positive & ~np.outer(on_y, on_x)).any(), sample_id
        solid_x = (centres > px0 + tolerance) & (centres < px1 - tolerance)
        solid_y = (centres > py0 + tolerance) & (centres < py1 - tolerance)
        painted = mask[np.ix_(centres.astype(int), centres.astype(int))]
        solid = painted & np.outer(solid_y, solid_x)
        assert (positive | ~solid).all(), sample_id
        offsets.append((cx - size / 2) / np.sqrt(w * h))
        assert 0 < cx < size and 0 < cy < size  # the target centre stays in the crop
        # template (no jitter): the target is centred in the crop
        template = _magenta_mask(sample["template"])
        assert template.any(), "an absent frame was used as a template"
        t_rows, t_cols = np.nonzero(template)
        t_size = config.template_size
        assert abs((t_cols.min() + t_cols.max() + 1) / 2 - t_size / 2) <= 1.5
        assert abs((t_rows.min() + t_rows.max() + 1) / 2 - t_size / 2) <= 1.5
    # the search crops really are jittered (by up to 1.5 sqrt(wh) of the jittered box)
    assert np.abs(offsets).max() > 0.5


def test_absent_frames_are_never_sampled(magenta_sequences) -> None:
    for seed in range(300):
        rng = np.random.default_rng(seed)
        choice = choose_pair(magenta_sequences, 3, rng)
        visible = magenta_sequences[choice.sequence].visible
        assert visible[choice.template_frame] and visible[choice.search_frame]
        assert 0 < abs(choice.template_frame - choice.search_frame) <= 3


def test_samples_are_a_function_of_their_id_whatever_the_workers(
    magenta_sequences, tmp_path: Path
) -> None:
    config = tiny_config(tmp_path)
    dataset = PairDataset(magenta_sequences, config, TrainingConfig(grayscale_probability=0.5))
    sampler = StepBatchSampler(2, 4, batch_size=3, accumulate=2, rank=1, world_size=2)
    assert list(sampler)[0] == [((2 * 2 + 0) * 2 + 1) * 3 + i for i in range(3)]
    assert len(sampler) == 4
    serial = list(DataLoader(dataset, batch_sampler=sampler, collate_fn=collate_pairs))
    with fork_safe_opencv():  # this process has used OpenCV's thread pool (crops, JPEGs)
        parallel = list(
            DataLoader(
                dataset, batch_sampler=sampler, collate_fn=collate_pairs, num_workers=2,
                worker_init_fn=init_data_worker,
            )
        )  # fmt: skip
    assert len(serial) == len(parallel) == 4
    for a, b in zip(serial, parallel, strict=True):
        assert torch.equal(a["search"], b["search"]) and torch.equal(a["boxes"], b["boxes"])
        assert a["texts"] == b["texts"]
    # photometric augmentation happens: some grayscale pairs, brightness varies
    grey = [bool(torch.equal(s[0], s[1])) for batch in serial for s in batch["search"]]
    assert any(grey) and not all(grey)


# --- descriptions ---------------------------------------------------------------------------


META_INFO = """[METAINFO]
url: https://www.youtube.com/watch?v=abcdefghijk
begin: 00:00:31
end: 00:00:39
anno_fps: 10Hz
object_class: ichneumon
motion_class: walking
major_class: viverrine
root_class: animal
motion_adverb: slowly
resolution: (1280, 720)
"""


def _got10k_sequence(folder: Path, meta_info: str | None, frames: int = 4) -> None:
    folder.mkdir(parents=True)
    for index in range(frames):
        image = np.full((60, 80, 3), 100 + index, np.uint8)
        cv2.imwrite(str(folder / f"{index + 1:08d}.jpg"), image)
    (folder / "groundtruth.txt").write_text("".join("10,10,20,15\n" for _ in range(frames)))
    (folder / "absence.label").write_text("0\n1\n0\n0\n")
    if meta_info is not None:
        (folder / "meta_info.ini").write_text(meta_info)


def test_got10k_pseudo_language_from_meta_info(tmp_path: Path) -> None:
    root = tmp_path / "GOT-10k" / "train"
    _got10k_sequence(root / "GOT-10k_Train_000001", META_INFO)
    _got10k_sequence(
        root / "GOT-10k_Train_000002",
        "[METAINFO]\nobject_class: sea_lion\nmotion_class: swimming\nmajor_class: unknown\n",
    )
    _got10k_sequence(root / "GOT-10k_Train_000003", None)
    (root / "list.txt").write_text("GOT-10k_Train_000001\nGOT-10k_Train_000002\n")

    sequences, report = load_training_sequences([root], without_language="empty")
    assert [s.language for s in sequences] == ["viverrine walking", "sea lion swimming", ""]
    assert report.used == 3 and report.without_language == 1
    assert sequences[0].visible.tolist() == [True, False, True, True]  # absence.label

    kept, report = load_training_sequences([root], without_language="skip")
    assert [s.name for s in kept] == ["GOT-10k_Train_000001", "GOT-10k_Train_000002"]
    assert report.skipped and "no description" in report.skipped[0][1]

    visual_only, _ = load_training_sequences([root], need_language=False)
    assert len(visual_only) == 3 and not any(s.language for s in visual_only)

    assert got10k_pseudo_language({"major_class": "car", "motion_class": "racing"}) == "car racing"
    assert got10k_pseudo_language({"object_class": "kite"}) == "kite"
    assert got10k_pseudo_language(None) == ""


def test_single_sequence_folders_and_bad_folders(tmp_path: Path) -> None:
    _got10k_sequence(tmp_path / "one", META_INFO)
    sequences, _ = load_training_sequences([tmp_path / "one"])
    assert len(sequences) == 1 and sequences[0].language == "viverrine walking"
    (tmp_path / "empty").mkdir()
    with pytest.raises(FormatError, match="neither a sequence folder"):
        load_training_sequences([tmp_path / "empty"])
    _got10k_sequence(tmp_path / "mute", None)
    with pytest.raises(FormatError, match="no usable training sequence.*no description"):
        load_training_sequences([tmp_path / "mute"], without_language="skip")


def test_an_unreadable_frame_is_skipped_not_fatal(tmp_path: Path) -> None:
    folder = _magenta_video(tmp_path / "video", np.random.default_rng(1), frames=12)
    frame = folder / "imgs" / "000003.jpg"
    frame.write_bytes(frame.read_bytes()[: frame.stat().st_size // 2])  # truncated JPEG
    sequences, _ = load_training_sequences([folder])
    dataset = PairDataset(sequences, tiny_config(tmp_path), TrainingConfig(grayscale_probability=0))
    with pytest.warns(UserWarning, match="unreadable frame.*truncated"):
        samples = [dataset[i] for i in range(12)]
    assert all(_magenta_mask(s["search"]).any() for s in samples)
