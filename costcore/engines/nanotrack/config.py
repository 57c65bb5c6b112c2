"""NanoTrack's tracking settings: crop sizes, context, penalties, and whose rules to follow.

Defaults per version are the authors' ``models/config/configv{1,2,3}.yaml``
(github.com/HonglinChu/SiamTrackers, NanoTrack/): exemplar 127 px, instance 255 px, context
0.5, and each version's tuned window influence, scale/ratio penalty and size learning rate.
The network fixes the rest (stride 16; a 16 x 16 score map for V1 and V2, 15 x 15 for V3).

``rules`` says whose arithmetic the tracker follows: ``"authors"`` (default) is their pysot
``NanoTracker``; ``"opencv"`` is OpenCV's ``cv2.TrackerNano``, an independent C++ port with
its own crop and update rules (see :mod:`costcore.engines.nanotrack.tracker`). Use
:data:`OPENCV_TRACKER_NANO` for everything OpenCV's port hard-codes.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, fields, replace
from pathlib import Path
from typing import Any

from costcore.errors import FormatError

VERSIONS = (1, 2, 3)
RULES = ("authors", "opencv")

#: TRACK.WINDOW_INFLUENCE, PENALTY_K and LR of the authors' configv1/v2/v3.yaml
VERSION_SETTINGS: dict[int, dict[str, float]] = {
    1: {"window_influence": 0.462, "penalty_k": 0.148, "lr": 0.390},
    2: {"window_influence": 0.490, "penalty_k": 0.150, "lr": 0.385},
    3: {"window_influence": 0.455, "penalty_k": 0.138, "lr": 0.348},
}

#: what OpenCV's TrackerNano hard-codes (``trackerConfig`` in tracker_nano.cpp), whatever
#: the weights: pass as ``config`` to reproduce ``cv2.TrackerNano`` box for box
OPENCV_TRACKER_NANO: dict[str, Any] = {
    "rules": "opencv",
    "window_influence": 0.455,
    "penalty_k": 0.055,
    "lr": 0.37,
}

#: the backbone's total stride and the template feature side the head is built for
STRIDE = 16
TEMPLATE_FEATURE_SIDE = 8


def feature_side(image_side: int) -> int:
    """Side of the backbone's output for a square input (four stride-2, 'same' convolutions)."""
    side = image_side
    for _ in range(4):
        side = (side - 1) // 2 + 1
    return side


@dataclass(frozen=True)
class NanoTrackConfig:
    """Everything the tracker needs besides the weights; ``version`` comes from them."""

    version: int = 3
    exemplar_size: int = 127
    instance_size: int = 255
    context_amount: float = 0.5
    window_influence: float = VERSION_SETTINGS[3]["window_influence"]
    penalty_k: float = VERSION_SETTINGS[3]["penalty_k"]
    lr: float = VERSION_SETTINGS[3]["lr"]
    #: the authors clip width and height to at least this many pixels
    min_size: float = 10.0
    rules: str = "authors"

    def __post_init__(self) -> None:
        if self.version not in VERSIONS:
            raise ValueError(f"version must be one of {VERSIONS}, got {self.version!r}")
        if self.rules not in RULES:
            raise ValueError(f"rules must be one of {', '.join(RULES)}, got {self.rules!r}")
        for name in ("exemplar_size", "instance_size"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
                raise ValueError(f"{name} must be a positive integer, got {value!r}")
        if feature_side(self.exemplar_size) != TEMPLATE_FEATURE_SIDE:
            raise ValueError(
                f"exemplar_size {self.exemplar_size} gives {feature_side(self.exemplar_size)} "
                f"template features; the head needs {TEMPLATE_FEATURE_SIDE} (e.g. 127)"
            )
        if feature_side(self.instance_size) <= TEMPLATE_FEATURE_SIDE:
            raise ValueError("instance_size must be larger than exemplar_size")
        for name in ("context_amount", "window_influence", "penalty_k", "lr", "min_size"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise ValueError(f"{name} must be a number, got {value!r}")
            if not math.isfinite(value) or value < 0:
                raise ValueError(f"{name} must be a finite number >= 0, got {value!r}")
        for name in ("window_influence", "lr"):
            if getattr(self, name) > 1:
                raise ValueError(f"{name} must lie in [0, 1], got {getattr(self, name)!r}")

    @classmethod
    def for_version(cls, version: int, **overrides: Any) -> NanoTrackConfig:
        """The authors' settings for ``version`` with ``overrides`` on top."""
        if version not in VERSIONS:
            raise ValueError(f"version must be one of {VERSIONS}, got {version!r}")
        return cls(version=version, **{**VERSION_SETTINGS[version], **overrides})

    @property
    def output_size(self) -> int:
        """Side of the score map: V3's head loses one cell (2 x 2 and 4 x 4 correlations)."""
        side = feature_side(self.instance_size)
        return side - 1 if self.version == 3 else side

    def with_version(self, version: int) -> NanoTrackConfig:
        return replace(self, version=version)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(
        cls, values: dict[str, Any], source: str | Path = "config", version: int | None = None
    ) -> NanoTrackConfig:
        """The settings of ``version`` (the checkpoint's) overridden by ``values``.

        ``values`` may name a ``version`` too; it must then agree with ``version``. An unknown
        field or a bad value is a :class:`FormatError` naming ``source``.
        """
        if not isinstance(values, dict):
            raise FormatError(source, "the NanoTrack config must be a JSON object")
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise FormatError(source, f"unknown NanoTrack config fields: {', '.join(unknown)}")
        values = dict(values)
        named = values.pop("version", None)
        if named is not None and version is not None and named != version:
            raise FormatError(
                source, f"the config says NanoTrack V{named}, the weights are V{version}"
            )
        chosen = version if version is not None else named if named is not None else 3
        try:
            return cls.for_version(chosen, **values)
        except (TypeError, ValueError) as error:
            raise FormatError(source, f"bad NanoTrack config: {error}") from error

    @classmethod
    def from_json(cls, path: str | Path, version: int | None = None) -> NanoTrackConfig:
        path = Path(path)
        try:
            values = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as error:
            raise FormatError(path, f"cannot read the config ({error})") from error
        if isinstance(values, dict):
            values.pop("engine", None)
            values.pop("weights", None)
        return cls.from_dict(values, path, version)
