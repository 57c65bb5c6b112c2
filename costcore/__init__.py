"""costcore: the Qt-free heart of COST Annotator.

Formats, the annotation model, attributes, frame sources, the COST model, tracking engines,
evaluation, training and benchmarks. Nothing in this package imports Qt, so all of it can be
used and tested headless (``python -m costcore ...``).
"""

__version__ = "0.1.0"
