"""The annotator's workflow, Qt-free: what the app shows and what ``bench effort`` measures.

- :mod:`~costcore.annotator.assist_session`: one video's annotation, undo stack, diagnostics
  and every decision about automatic work (propagate, fill, refill, recombine, review);
- :mod:`~costcore.annotator.events`: the tiny event emitter views connect to.
"""

from costcore.annotator.assist_session import AssistJob, AssistRefused, AssistSession
from costcore.annotator.events import Event

__all__ = ["AssistJob", "AssistRefused", "AssistSession", "Event"]
