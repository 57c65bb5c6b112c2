"""The annotator's workflow, Qt-free: what the app shows and what ``bench effort`` measures.

- :mod:`~costcore.annotator.annotator_model`: :class:`AnnotatorModel`, the open video, the current
  frame, the engine settings and every action a person takes (napari's ``ViewerModel``);
- :mod:`~costcore.annotator.assist_session`: one video's annotation, undo stack, diagnostics
  and every decision about automatic work (propagate, fill, refill, recombine, review);
- :mod:`~costcore.annotator.session_opening`: opening a video and resuming its saved session;
- :mod:`~costcore.annotator.engine_settings`: the engine choice and what is said about it;
- :mod:`~costcore.annotator.overlay`: what a view draws over a frame;
- :mod:`~costcore.annotator.events`: the tiny event emitter views connect to.
"""

from costcore.annotator.annotator_model import AnnotatorModel, ModelEvents
from costcore.annotator.assist_session import AssistJob, AssistRefused, AssistSession
from costcore.annotator.engine_settings import EngineSettings, engine_choices
from costcore.annotator.events import Event
from costcore.annotator.overlay import FrameOverlay, frame_overlay
from costcore.annotator.session_opening import OpenedVideo, OpenResult, prepare_open, settle

__all__ = [
    "AnnotatorModel",
    "AssistJob",
    "AssistRefused",
    "AssistSession",
    "EngineSettings",
    "Event",
    "FrameOverlay",
    "ModelEvents",
    "OpenResult",
    "OpenedVideo",
    "engine_choices",
    "frame_overlay",
    "prepare_open",
    "settle",
]
