"""Keeping the cyclic garbage collector off objects that live as long as the app.

A full collection scans every tracked object holding the interpreter lock. After the window is
built there are ~100,000 of them (Qt wrappers, pyqtgraph, numpy, the window); after a deep
engine is built, several hundred thousand more (torch, its TorchScript graphs). Scanning those
took 30-40 ms (window) and 270 ms (torch) in the middle of runs streaming boxes: the window
froze and the engine, waiting for the lock, fell to half its speed
(benchmarks/bench_propagation.py). Frozen objects still die by reference counting.
"""

from __future__ import annotations

import gc


def freeze_startup_objects() -> None:
    """Once the window is built: collect what start-up left behind, then exempt the rest."""
    gc.collect()
    gc.freeze()


def freeze_engine_objects() -> None:
    """Right after an engine is built (in its worker): exempt everything alive now. No
    collection first: it would hold the lock for the same 270 ms; the little cyclic garbage
    of an import stays, as it would until the next full collection anyway."""
    gc.freeze()
