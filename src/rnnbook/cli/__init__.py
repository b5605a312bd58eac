"""The ``rnnbook`` command line: the top layer; nothing in the library imports it.

:func:`main` is the console entry point (``rnnbook = "rnnbook.cli:main"``).
"""

from rnnbook.cli.commands import build_parser, main, run_config_from_args, train_command

__all__ = ["build_parser", "main", "run_config_from_args", "train_command"]
