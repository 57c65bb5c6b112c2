"""Start COST Annotator: ``python main.py [PATH]``.

Kept thin on purpose: argument parsing and the hand-off to :mod:`app`; everything else lives in
``app/`` (Qt views) and ``costcore/`` (the Qt-free model).
"""

from __future__ import annotations

import sys


def main(argv: list[str] | None = None) -> int:
    from app.application import run

    return run(sys.argv[1:] if argv is None else argv)


if __name__ == "__main__":
    raise SystemExit(main())
