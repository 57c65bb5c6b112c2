"""Reading a dataset's ground truth, in any layout :mod:`costcore.formats` knows."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from costcore.errors import FormatError
from costcore.evaluation.groundtruth import GroundTruth


def load_ground_truths(
    dataset_dir: str | Path, progress: Callable[[int, int], None] | None = None
) -> list[GroundTruth]:
    """Ground truth of every sequence folder under ``dataset_dir``, sorted by name.

    Result files are matched by sequence name, so two sequences with the same name are an
    error rather than a silent overwrite.
    """
    # Imported here: the formats package is only needed when reading from disk.
    from costcore.formats import iter_sequences, read_sequence
    from costcore.formats.sequence import Sequence

    items = list(iter_sequences(dataset_dir))
    ground_truths: dict[str, GroundTruth] = {}
    for done, item in enumerate(items, start=1):
        sequence = item if isinstance(item, Sequence) else read_sequence(item)
        if sequence.name in ground_truths:
            raise FormatError(sequence.root, f"a second sequence named {sequence.name!r}")
        ground_truths[sequence.name] = GroundTruth.from_sequence(sequence)
        if progress is not None:
            progress(done, len(items))
    if not ground_truths:
        raise FormatError(dataset_dir, "no sequence folders found")
    return [ground_truths[name] for name in sorted(ground_truths)]
