"""Dataset formats: readers of VL-SOT500, LaSOT, TNL2K, OTB, UAV123 and GOT-10k sequences,
the VL-SOT500 writer and its validator.

Every reader returns a :class:`Sequence` and raises only :class:`~costcore.errors.FormatError`
on bad input, naming the file and line.
"""

from costcore.formats.detect import LAYOUTS, detect_layout, iter_sequences, read_sequence
from costcore.formats.got10k import read_got10k
from costcore.formats.lasot import read_lasot
from costcore.formats.otb import read_otb
from costcore.formats.sequence import Sequence
from costcore.formats.tnl2k import read_tnl2k
from costcore.formats.uav123 import read_uav123
from costcore.formats.vlsot500 import read_vlsot500
from costcore.formats.vlsot500_validator import Issue, format_report, has_errors, validate_vlsot500
from costcore.formats.vlsot500_writer import write_vlsot500

__all__ = [
    "LAYOUTS",
    "Issue",
    "Sequence",
    "detect_layout",
    "format_report",
    "has_errors",
    "iter_sequences",
    "read_got10k",
    "read_lasot",
    "read_otb",
    "read_sequence",
    "read_tnl2k",
    "read_uav123",
    "read_vlsot500",
    "validate_vlsot500",
    "write_vlsot500",
]
