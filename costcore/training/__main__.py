"""``python -m costcore.training``: ``python -m costcore train`` without the subcommand word.

torchrun launches modules, not subcommands: ``torchrun --nproc_per_node 2 -m costcore.training
--data DIR --out RUN_DIR``.
"""

from costcore.cli.train import main

raise SystemExit(main())
