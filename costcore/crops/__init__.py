"""Crop geometry of the trackers we reproduce: a square around the target, cut and resized.

Each released tracker cuts its crops its own way, and its weights expect exactly those pixels,
so each way has its own module:

- :mod:`costcore.crops.transt`: TransT's side formula and box mapping (:class:`SearchCrop`),
  with a sub-pixel crop for training;
- :mod:`costcore.crops.pysot`: the whole-pixel cut of pysot/SOTS (``get_subwindow``), which
  TransT's, VLT_TT's and other Siamese trackers use online;
- :mod:`costcore.crops.ostrack`: OSTrack's ``sample_target`` and the window, box mapping and
  clipping that go with it (All-in-One, UVLTrack and other OSTrack-based trackers).

The package depends on numpy, OpenCV and :mod:`costcore.boxes` only, so both the engines and
training import it without importing each other.
"""
