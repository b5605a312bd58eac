"""``python -m rnnbook``: the same as the ``rnnbook`` command."""

from rnnbook.cli import main

raise SystemExit(main())
