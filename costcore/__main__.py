"""``python -m costcore``: see :mod:`costcore.cli`."""

from costcore.cli import main

raise SystemExit(main())
