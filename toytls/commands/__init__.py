"""The ``toytls`` subcommands. Part of the command-line layer: they print.

Each module has one ``run(args, console) -> int`` that returns the exit
status; :mod:`toytls.cli` parses the flags and calls it.
"""

from __future__ import annotations

#: Exit statuses shared by every command (documented in ``--help``).
EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_CERTIFICATE_REJECTED = 3
EXIT_CONNECTION_FAILED = 4
EXIT_INTERRUPTED = 130
