"""The attributes panel's proposals: computed by costcore in a worker, accepted into the model.

Proposals read every frame (brightness, blur, illumination), so they run off the UI thread
with progress and cancel; accepting one is an ordinary undoable edit of the model.
"""

from __future__ import annotations

from PySide6.QtCore import QObject

from app.panels.attributes_panel import AttributesPanel
from app.proposal_job import proposal_task
from app.workers import Task
from costcore.annotation import Change
from costcore.annotator import AnnotatorModel
from costcore.attributes import Proposal, proposals_to_values


class AttributeProposals(QObject):
    """Connects the attributes panel to the model and runs the proposal worker."""

    def __init__(
        self, model: AnnotatorModel, panel: AttributesPanel, parent: QObject | None = None
    ) -> None:
        super().__init__(parent)
        self.model, self.panel = model, panel
        self._task: Task | None = None
        panel.attributeChanged.connect(model.set_attribute)
        panel.acceptProposal.connect(self.accept)
        panel.acceptAll.connect(self.accept_all)
        panel.proposeRequested.connect(self.propose)
        panel.cancelRequested.connect(self.cancel)
        model.events.opened.connect(self._on_opened)
        model.events.changed.connect(self._on_changed)

    def _on_opened(self) -> None:
        annotation = self.model.annotation
        assert annotation is not None
        self.panel.set_values(annotation.attributes)
        self.panel.clear_proposals()

    def _on_changed(self, change: Change) -> None:
        annotation = self.model.annotation
        if annotation is None:
            return
        if change.frames:
            self.panel.mark_proposals_stale()
        if change.video:
            self.panel.set_values(annotation.attributes)

    def propose(self) -> None:
        """Compute costcore's proposals in a worker (reads every frame for BRI, IV, MB)."""
        annotation, video = self.model.annotation, self.model.video
        if annotation is None or video is None or self._task is not None:
            return
        task = proposal_task(annotation, video.frames, self)
        task.progress.connect(self.panel.set_progress)
        task.finished.connect(self._ready)
        task.failed.connect(self._failed)
        task.cancelled.connect(lambda: self._failed("cancelled"))
        self._task = task
        self.panel.set_busy(True)
        task.start()

    def _ready(self, proposals: list[Proposal]) -> None:
        self._task = None
        self.panel.set_busy(False)
        self.panel.set_proposals(
            proposals, f"{len(proposals)} proposals; check each before accepting."
        )

    def _failed(self, message: str) -> None:
        self._task = None
        self.panel.set_busy(False)
        self.panel.note.setText(f"Proposals not computed: {message}")

    def cancel(self, wait: bool = False) -> None:
        if self._task is not None:
            self._task.cancel()
            if wait:
                self._task.wait(10.0)

    def accept(self, proposal: Proposal) -> None:
        self.model.set_attribute(
            proposal.index, proposal.value, text=f"Accept {proposal.code} = {proposal.label}"
        )

    def accept_all(self) -> None:
        annotation = self.model.annotation
        proposals = list(self.panel.proposals.values())
        if annotation is not None and proposals:
            values = proposals_to_values(proposals, base=annotation.attributes)
            self.model.set_attributes(values, text="Accept all attribute proposals")
