"""Dock panels of the main window; each is a view over the session controller.

A future tracking-engine panel (engine choice, propagate, confidence plots) goes here as one
more module and is added with ``MainWindow.add_panel``.
"""
