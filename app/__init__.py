"""COST Annotator's Qt front end: windows, widgets and worker threads over ``costcore``.

Nothing in here reads or writes a file format or computes a box, an attribute or a metric:
those live in ``costcore``; this package shows them and turns user input into edit commands.
"""
