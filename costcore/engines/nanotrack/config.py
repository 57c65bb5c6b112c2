"""NanoTrack's tracking settings: crop sizes, context, penalties, and whose rules to follow.

Defaults per version are the authors' ``models/config/configv{1,2,3}.yaml``
(github.com/HonglinChu/SiamTrackers, NanoTrack/): exemplar 127 px, instance 255 px, context
0.5, and each version's tuned window influence, scale/ratio penalty and size learning rate.
The network fixes the rest (stride 16; a 16 x 16 score map for V1 and V2, 15 x 15 for V3),
so no field changes the network's size: the config has no parameter count to bound, only the
crops (``instance_size`` at most :data:`MAX_INSTANCE_SIZE`).

``rules`` says whose arithmetic the tracker follows: ``"authors"`` (default) is their pysot
``NanoTracker``; ``"opencv"`` is OpenCV's ``cv2.TrackerNano``, an independent C++ port with
its own crop and update rules (see :mod:`costcore.engines.nanotrack.rules`). Use
:data:`OPENCV_TRACKER_NANO` for everything OpenCV's port hard-codes. ``decode="crop"``
(authors' rules only, not the default) maps the network's output back through the square
actually cut instead of the tracked centre: more accurate on small targets, no longer the
authors' tracker box for box.

A config file is untrusted input: :class:`NanoTrackConfig` is a
:class:`~costcore.frozen_config.FrozenConfig`, so a wrong type, a value out of range or an
unknown field is one :class:`~costcore.errors.ConfigError` naming the file and the field.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from costcore.errors import ConfigError
from costcore.frozen_config import FrozenConfig, read_json_object, setting

VERSIONS = (1, 2, 3)
RULES = ("authors", "opencv")
#: how the network's offsets map back to the frame (see :mod:`~.rules`): the authors' way
#: (from the tracked centre) or from the square actually cut
DECODINGS = ("authors", "crop")

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
#: the largest search crop (a 64 x 64 map; the released configs use 255 px, 16 x 16)
MAX_INSTANCE_SIZE = 1024


def feature_side(image_side: int) -> int:
    """Side of the backbone's output for a square input (four stride-2, 'same' convolutions)."""
    side = image_side
    for _ in range(4):
        side = (side - 1) // 2 + 1
    return side


@dataclass(frozen=True)
class NanoTrackConfig(FrozenConfig):
    """Everything the tracker needs besides the weights; ``version`` comes from them.

    The field defaults are V3's; :meth:`for_version` and :meth:`from_dict` start from the
    settings of the version the weights are.
    """

    what = "NanoTrack config"
    #: keys a checkpoint folder's config.json may hold that are not tracker settings
    ignored_keys = ("engine", "weights")

    version: int = setting(3, choices=VERSIONS)
    exemplar_size: int = setting(127, minimum=1, maximum=MAX_INSTANCE_SIZE)
    instance_size: int = setting(255, minimum=1, maximum=MAX_INSTANCE_SIZE)
    #: the context added around the target: p = context_amount * (w + h)
    context_amount: float = setting(0.5, minimum=0.0, maximum=10.0)
    window_influence: float = setting(
        VERSION_SETTINGS[3]["window_influence"], minimum=0.0, maximum=1.0
    )
    penalty_k: float = setting(VERSION_SETTINGS[3]["penalty_k"], minimum=0.0, maximum=100.0)
    lr: float = setting(VERSION_SETTINGS[3]["lr"], minimum=0.0, maximum=1.0)
    #: the authors clip width and height to at least this many pixels
    min_size: float = setting(10.0, minimum=0.0, maximum=10_000.0)
    rules: str = setting("authors", choices=RULES)
    #: "crop": decode from the centre and scale of the pixel square actually cut, not the
    #: tracked centre (more accurate on small targets; not the authors' tracker)
    decode: str = setting("authors", choices=DECODINGS)

    def validate(self) -> None:
        if feature_side(self.exemplar_size) != TEMPLATE_FEATURE_SIDE:
            raise self.invalid(
                "exemplar_size",
                f"{self.exemplar_size} gives {feature_side(self.exemplar_size)} x "
                f"{feature_side(self.exemplar_size)} template features; the head needs "
                f"{TEMPLATE_FEATURE_SIDE} x {TEMPLATE_FEATURE_SIDE} (113 to 128, e.g. 127)",
            )
        if self.decode != "authors" and self.rules != "authors":
            raise self.invalid("decode", f"{self.decode!r} applies to the authors' rules only")
        if feature_side(self.instance_size) <= TEMPLATE_FEATURE_SIDE:
            raise self.invalid(
                "instance_size", f"must be larger than exemplar_size ({self.exemplar_size})"
            )

    @classmethod
    def for_version(cls, version: int, **overrides: Any) -> NanoTrackConfig:
        """The authors' settings for ``version`` with ``overrides`` on top."""
        if type(version) is not int or version not in VERSIONS:
            raise cls.invalid("version", f"must be one of 1, 2, 3, not {version!r}")
        return cls(version=version, **{**VERSION_SETTINGS[version], **overrides})

    @property
    def output_size(self) -> int:
        """Side of the score map: V3's head loses one cell (2 x 2 and 4 x 4 correlations)."""
        side = feature_side(self.instance_size)
        return side - 1 if self.version == 3 else side

    def with_version(self, version: int) -> NanoTrackConfig:
        return self.replace(version=version)

    @classmethod
    def from_dict(
        cls, values: Any, source: str | Path | None = None, version: int | None = None
    ) -> NanoTrackConfig:
        """The settings of ``version`` (the checkpoint's) overridden by ``values``.

        ``values`` may name a ``version`` too; it must then agree with ``version``. Without
        either, V3's settings. Every problem is a :class:`ConfigError` naming ``source`` (the
        file the values came from) and the field.
        """
        if not isinstance(values, dict):
            return super().from_dict(values, source)  # the base's message for a non-object
        named = values.get("version")
        if version is not None and "version" in values and named != version:
            where = None if source is None else Path(source)
            raise ConfigError(
                where,
                f"the config says NanoTrack V{named}, the weights are V{version}",
                "version",
                what=cls.what,
            )
        chosen = version if version is not None else named
        if type(chosen) is not int or chosen not in VERSIONS:
            chosen = 3  # a bad named version is reported by the field check below
        defaults = {"version": chosen, **VERSION_SETTINGS[chosen]}
        return super().from_dict({**defaults, **values}, source)

    @classmethod
    def from_json_file(cls, path: str | Path, version: int | None = None) -> NanoTrackConfig:
        """Read a JSON file (bounded size, nesting and numbers) into a checked config."""
        return cls.from_dict(read_json_object(path, cls.what), path, version)
