"""The catalogue of weights the project knows how to fetch: pinned URLs and their checksums.

Every entry points at files its authors published, pinned to one commit so the bytes behind a
URL never change, with the SHA-256 and size of each file: a download is accepted only when both
match. The machinery (cache, status, download) knows nothing about any one engine; an engine
that wants fetchable weights adds an entry here (COST/TransT when their weights are published).
"""

from __future__ import annotations

from dataclasses import dataclass

from costcore.weights.errors import WeightsCatalogueError


@dataclass(frozen=True)
class WeightsFile:
    """One published file: its name in the cache, where to get it, and what its bytes are."""

    name: str
    url: str
    sha256: str
    size: int


@dataclass(frozen=True)
class WeightsEntry:
    """A named set of weights files that one engine loads together."""

    name: str
    engine: str
    description: str
    license: str
    files: tuple[WeightsFile, ...]
    #: where the weights come from (project page), shown to users next to the license
    homepage: str = ""

    @property
    def size(self) -> int:
        """Total bytes of all files."""
        return sum(f.size for f in self.files)


#: HonglinChu/SiamTrackers, the commit whose NanoTrack/ folder holds the released weights
NANOTRACK_COMMIT = "248663fde6bf7c40190cf10ee396d5662919ecd3"
_NANOTRACK_RAW = (
    f"https://raw.githubusercontent.com/HonglinChu/SiamTrackers/{NANOTRACK_COMMIT}/NanoTrack"
)
_NANOTRACK_HOME = "https://github.com/HonglinChu/SiamTrackers/tree/master/NanoTrack"


def _nanotrack_file(path: str, sha256: str, size: int) -> WeightsFile:
    return WeightsFile(path.rsplit("/", 1)[-1], f"{_NANOTRACK_RAW}/{path}", sha256, size)


#: every known entry, the preferred one of each engine first
CATALOGUE: tuple[WeightsEntry, ...] = (
    WeightsEntry(
        name="nanotrack-v3",
        engine="nanotrack",
        description="NanoTrack V3 (MobileNetV3 + BAN head), the authors' released .pth",
        license="Apache-2.0",
        homepage=_NANOTRACK_HOME,
        files=(
            _nanotrack_file(
                "models/pretrained/nanotrackv3.pth",
                "4f0d25108385a67bdec5fa01ca37c74acb72343b53996dd645fe18b86e512e69",
                3498955,
            ),
        ),
    ),
    WeightsEntry(
        name="nanotrack-v2",
        engine="nanotrack",
        description="NanoTrack V2 (MobileNetV3 + BAN head), the authors' released .pth",
        license="Apache-2.0",
        homepage=_NANOTRACK_HOME,
        files=(
            _nanotrack_file(
                "models/pretrained/nanotrackv2.pth",
                "938a320c560fd8c8d6a148a76a072bca29c529ce16591c9a2157859ee0ecc5e1",
                2095829,
            ),
        ),
    ),
    WeightsEntry(
        name="nanotrack-v1",
        engine="nanotrack",
        description="NanoTrack V1 (MobileNetV3 + BAN head), the authors' released .pth",
        license="Apache-2.0",
        homepage=_NANOTRACK_HOME,
        files=(
            _nanotrack_file(
                "models/pretrained/nanotrackv1.pth",
                "2a24bbfd1163a7692ab22100336a54de55dde12301b7d8ae7a4e745fb10b09a3",
                2475634,
            ),
        ),
    ),
    WeightsEntry(
        name="nanotrack-v2-onnx",
        engine="opencv-nano",
        description="NanoTrack V2 as the ONNX pair OpenCV's cv2.TrackerNano loads (comparison)",
        license="Apache-2.0",
        homepage=_NANOTRACK_HOME,
        files=(
            _nanotrack_file(
                "models/nanotrackv2/nanotrack_backbone_sim.onnx",
                "530bdd0cd00f19afab79a863e71ba71e3312395a5dc9151af675082bdaaa2fc4",
                1056849,
            ),
            _nanotrack_file(
                "models/nanotrackv2/nanotrack_head_sim.onnx",
                "0d8c0637be849f092cc7236cae02e55c8b9455ebe37ba50601d6115db4247cd9",
                726198,
            ),
        ),
    ),
)


def catalogue_entries() -> tuple[WeightsEntry, ...]:
    """All known entries (read at call time, so tests can substitute the catalogue)."""
    return CATALOGUE


def find_entry(name: str) -> WeightsEntry:
    """The entry called ``name``; an unknown name is an error listing the known ones."""
    for entry in catalogue_entries():
        if entry.name == name:
            return entry
    known = ", ".join(e.name for e in catalogue_entries())
    raise WeightsCatalogueError(f"unknown weights '{name}' (known: {known})")


def entries_for_engine(engine: str) -> tuple[WeightsEntry, ...]:
    """The entries an engine can load, the preferred one first."""
    return tuple(e for e in catalogue_entries() if e.engine == engine)
