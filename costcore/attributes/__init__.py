"""The 17 VL-SOT500 attributes, their automatic proposals, relative speed and size statistics.

Qt-free: the app shows these objects, the CLI writes them.
"""

from costcore.attributes.box_rules import (
    propose_aspect_ratio_variation,
    propose_fast_motion,
    propose_length,
    propose_occlusion_and_out_of_view,
    propose_scale_variation,
)
from costcore.attributes.definitions import (
    ATTRIBUTE_CODES,
    ATTRIBUTE_COUNT,
    ATTRIBUTES,
    BRIGHTNESS_LOW_MAX,
    BRIGHTNESS_MEDIUM_MAX,
    LENGTH_MEDIUM_MAX,
    LENGTH_SHORT_MAX,
    AttributeDefinition,
    AttributeValue,
    attribute,
    brightness_level,
    format_attributes_line,
    length_level,
    parse_attributes_line,
    validate_attributes,
)
from costcore.attributes.frame_rules import (
    propose_brightness,
    propose_illumination_variation,
    propose_motion_blur,
)
from costcore.attributes.image_measures import FrameMeasures, measure_frames
from costcore.attributes.presence import boxes_and_presence
from costcore.attributes.proposal import Proposal, proposals_to_values
from costcore.attributes.proposals import ProposalSettings, propose_attributes
from costcore.attributes.small_object import SmallObjectStats, small_object_stats
from costcore.attributes.speed import average_relative_speed, relative_speed

__all__ = [
    "ATTRIBUTES",
    "ATTRIBUTE_CODES",
    "ATTRIBUTE_COUNT",
    "BRIGHTNESS_LOW_MAX",
    "BRIGHTNESS_MEDIUM_MAX",
    "LENGTH_MEDIUM_MAX",
    "LENGTH_SHORT_MAX",
    "AttributeDefinition",
    "AttributeValue",
    "FrameMeasures",
    "Proposal",
    "ProposalSettings",
    "SmallObjectStats",
    "attribute",
    "average_relative_speed",
    "boxes_and_presence",
    "brightness_level",
    "format_attributes_line",
    "length_level",
    "measure_frames",
    "parse_attributes_line",
    "propose_aspect_ratio_variation",
    "propose_attributes",
    "propose_brightness",
    "propose_fast_motion",
    "propose_illumination_variation",
    "propose_length",
    "propose_motion_blur",
    "propose_occlusion_and_out_of_view",
    "propose_scale_variation",
    "proposals_to_values",
    "relative_speed",
    "small_object_stats",
    "validate_attributes",
]
