"""Work that must not run on the UI thread: frame decoding and long tasks (export, proposals).

Results come back as Qt signals, which Qt queues to the UI thread; every piece of state here is
touched only on the UI thread, so no locks are needed on this side.
"""

from __future__ import annotations

import threading
import time
import traceback
from collections.abc import Callable
from typing import Any

import numpy as np
from PySide6.QtCore import QObject, QThreadPool, Signal
from PySide6.QtGui import QImage

from costcore.errors import Cancelled


def frame_to_qimage(frame: np.ndarray) -> QImage:
    """An RGB uint8 frame as a QImage that owns its pixels (safe to send across threads).

    Converted once to RGB32, the format the raster paint engine draws without converting again.
    """
    frame = np.ascontiguousarray(frame)
    height, width = frame.shape[:2]
    if frame.ndim == 2:
        image = QImage(frame.data, width, height, frame.strides[0], QImage.Format.Format_Grayscale8)
    else:
        image = QImage(frame.data, width, height, frame.strides[0], QImage.Format.Format_RGB888)
    return image.convertToFormat(QImage.Format.Format_RGB32)


class _FrameSignals(QObject):
    done = Signal(int, int, object)  # request serial, frame index, QImage
    failed = Signal(int, int, str)


class FrameLoader(QObject):
    """Serves frames to the view: newest request wins, stale results are dropped.

    Cached frames are served at once (no decoding involved); others are decoded by one worker
    thread, one at a time. While a decode runs, newer requests only replace the pending index,
    so scrubbing never queues up work. ``frameReady`` fires for a result newer than the one on
    screen, so fast scrubbing still shows intermediate frames, each with its own index.
    """

    frameReady = Signal(int, object)  # frame index, QImage
    frameFailed = Signal(int, str)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._source: Any = None
        self._pool = QThreadPool(self)
        self._pool.setMaxThreadCount(1)
        self._signals = _FrameSignals()
        self._signals.done.connect(self._on_done)
        self._signals.failed.connect(self._on_failed)
        self._serial = 0
        self._shown_serial = 0
        self._pending: tuple[int, int] | None = None
        self._busy = False
        self._generation = 0  # bumps when the source changes, so old results are ignored

    def set_source(self, source: Any) -> None:
        """Serve frames of ``source`` (a costcore FrameSource) from now on."""
        self._generation += 1
        self._source = source
        self._pending = None
        self._shown_serial = self._serial

    def request(self, index: int) -> None:
        if self._source is None:
            return
        self._serial += 1
        serial = self._serial
        cached = self._cached(index)
        if cached is not None:
            self._pending = None
            self._shown_serial = serial
            self.frameReady.emit(index, frame_to_qimage(cached))
            return
        self._pending = (serial, index)
        if not self._busy:
            self._start_next()

    def _cached(self, index: int) -> np.ndarray | None:
        cache = getattr(self._source, "cache", None)
        if cache is None or cache.peek(index) is None:
            return None
        try:
            # through the source, so its prefetcher learns where the annotator is going
            return self._source.frame(index)
        except Exception:  # noqa: BLE001 - fall back to the worker, which reports the error
            return None

    def _start_next(self) -> None:
        if self._pending is None:
            return
        serial, index = self._pending
        self._pending = None
        self._busy = True
        source, signals, generation = self._source, self._signals, self._generation

        def work() -> None:
            try:
                image = frame_to_qimage(source.frame(index))
            except Exception as error:  # noqa: BLE001 - reported to the UI, never raised
                signals.failed.emit(generation, index, str(error))
                return
            signals.done.emit(generation, index, (serial, image))

        self._pool.start(work)

    def _on_done(self, generation: int, index: int, payload: tuple[int, QImage]) -> None:
        self._busy = False
        serial, image = payload
        if generation == self._generation and serial > self._shown_serial:
            self._shown_serial = serial
            self.frameReady.emit(index, image)
        self._start_next()

    def _on_failed(self, generation: int, index: int, message: str) -> None:
        self._busy = False
        if generation == self._generation:
            self.frameFailed.emit(index, message)
        self._start_next()

    @property
    def busy(self) -> bool:
        return self._busy or self._pending is not None

    def wait(self, msecs: int = 5000) -> bool:
        return self._pool.waitForDone(msecs)


class _TaskSignals(QObject):
    progress = Signal(int, int)
    finished = Signal(object)
    failed = Signal(str)
    cancelled = Signal()


class Task(QObject):
    """A long job in a worker thread with progress and cancellation.

    ``fn(progress, is_cancelled)`` runs in a pool thread; ``progress(done, total)`` and the
    result are delivered as signals on the UI thread. A job that raises costcore's
    ``Cancelled`` (or returns after ``cancel()``) reports ``cancelled``; other errors report
    ``failed`` with a readable message.
    """

    progress = Signal(int, int)
    finished = Signal(object)
    failed = Signal(str)
    cancelled = Signal()

    def __init__(
        self,
        fn: Callable[[Callable[[int, int], None], Callable[[], bool]], Any],
        parent: QObject | None = None,
        pool: QThreadPool | None = None,
    ) -> None:
        super().__init__(parent)
        self._fn = fn
        self._cancel = threading.Event()
        self._pool = pool or QThreadPool.globalInstance()
        self._signals = _TaskSignals()
        self._signals.progress.connect(self.progress)
        self._signals.finished.connect(self._finish)
        self._signals.failed.connect(self._fail)
        self._signals.cancelled.connect(self._cancelled)
        self._running = False
        self._done = threading.Event()

    def start(self) -> None:
        self._running = True
        signals, cancel, fn, done = self._signals, self._cancel, self._fn, self._done

        def work() -> None:
            try:
                result = fn(signals.progress.emit, cancel.is_set)
            except Cancelled:
                signals.cancelled.emit()
            except Exception as error:  # noqa: BLE001 - shown to the user
                message = str(error) or type(error).__name__
                if not isinstance(error, (OSError, ValueError)) and "Error" not in message:
                    message = f"{type(error).__name__}: {message}"
                traceback.print_exc()
                signals.failed.emit(message)
            else:
                if cancel.is_set():
                    signals.cancelled.emit()
                else:
                    signals.finished.emit(result)
            finally:
                done.set()

        self._pool.start(work)

    def cancel(self) -> None:
        self._cancel.set()

    @property
    def running(self) -> bool:
        return self._running

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the worker function returned (for shutdown and tests)."""
        return self._done.wait(timeout)

    def _finish(self, result: object) -> None:
        self._running = False
        self.finished.emit(result)

    def _fail(self, message: str) -> None:
        self._running = False
        self.failed.emit(message)

    def _cancelled(self) -> None:
        self._running = False
        self.cancelled.emit()


class _StreamSignals(QObject):
    batch = Signal(object)  # list of items


class StreamTask(Task):
    """A :class:`Task` whose job also streams results while it runs.

    ``fn(emit, progress, is_cancelled)``: ``emit(item)`` queues one item; items reach the UI
    thread in batches (``batch`` signal, a list) at most every ``interval`` seconds, so a
    fast engine cannot flood the event loop, and whatever is queued is sent before
    ``finished``/``cancelled``/``failed``.
    """

    batch = Signal(object)

    def __init__(
        self,
        fn: Callable[[Callable[[Any], None], Callable[[int, int], None], Callable[[], bool]], Any],
        parent: QObject | None = None,
        pool: QThreadPool | None = None,
        interval: float = 0.05,
    ) -> None:
        self._stream = _StreamSignals()
        self._pending: list[Any] = []
        self._lock = threading.Lock()
        self._interval = interval
        self._last_flush = 0.0
        stream_fn = fn

        def run(progress: Callable[[int, int], None], cancelled: Callable[[], bool]) -> Any:
            try:
                return stream_fn(self._emit, progress, cancelled)
            finally:
                self._flush()

        super().__init__(run, parent, pool)
        self._stream.batch.connect(self.batch)

    def _emit(self, item: Any) -> None:
        with self._lock:
            self._pending.append(item)
        now = time.perf_counter()
        if now - self._last_flush >= self._interval:
            self._flush()

    def _flush(self) -> None:
        with self._lock:
            items, self._pending = self._pending, []
        self._last_flush = time.perf_counter()
        if items:
            self._stream.batch.emit(items)
