"""COST (arXiv 2504.01321) and TransT, its visual-only special case, as a tracking engine.

Registered as ``"cost"`` and ``"transt"``. The network is :mod:`costcore.model` (shared with
training); this package is what runs it online:

- :mod:`~costcore.engines.cost.params`: the tracker's parameters (TransT's crop factors and
  sizes, window influence, minimum box size, precision) as a frozen dataclass;
- :mod:`~costcore.engines.cost.tracker`: the online tracker (crop, network, window, box);
- :mod:`~costcore.engines.cost.postprocess`: TransT's window penalty and state clipping;
- :mod:`~costcore.engines.cost.engine`: loading the weights and the registry factories.
"""

from costcore.engines.cost.engine import (
    COSTEngine,
    create_cost_engine,
    create_transt_engine,
    load_weights,
)
from costcore.engines.cost.params import COSTTrackerParams
from costcore.engines.cost.tracker import COSTTracker

__all__ = [
    "COSTEngine",
    "COSTTracker",
    "COSTTrackerParams",
    "create_cost_engine",
    "create_transt_engine",
    "load_weights",
]
