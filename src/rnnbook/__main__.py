"""``python -m rnnbook``: the same as the ``rnnbook`` command."""

from rnnbook.cli.commands import main

raise SystemExit(main())
