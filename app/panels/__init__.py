"""Dock panels of the main window; each is a view over the annotator model (costcore.annotator).

A future tracking-engine panel (engine choice, propagate, confidence plots) goes here as one
more module and is added with ``MainWindow.add_panel``.
"""
