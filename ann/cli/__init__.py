"""The command line: ``python -m ann download | train | evaluate | predict | sweep | runs``.

Which data: ``--dataset mnist|fashion|kmnist`` names a dataset published in MNIST's format (downloaded on first
use into its folder under ``data/``); ``--data PATH`` gives data of one's own (``ann.data.own``: a CSV file, a
pair of IDX files, a folder or zip of one subfolder per class), or, with ``--dataset``, the folder holding that
dataset's four files. A folder that holds a named dataset's files (MNIST's, as always) is read as that dataset.

Exit codes: 0 success, 2 a usage error (a bad flag or value), 1 any other failure, with a one-line message
on stderr and no traceback (set ``ANN_DEBUG=1`` to see one).
"""

from __future__ import annotations

import os
import sys

from ann.cli.commands import cmd_download, cmd_evaluate, cmd_predict, cmd_train
from ann.cli.common import FAILURE, USAGE_ERROR, UsageError
from ann.cli.parser import build_parser
from ann.cli.runs import cmd_runs
from ann.cli.sweep import cmd_sweep

COMMANDS = {"download": cmd_download, "train": cmd_train, "evaluate": cmd_evaluate, "predict": cmd_predict,
            "sweep": cmd_sweep, "runs": cmd_runs}


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)  # exits with 2 on a usage error
    try:
        return COMMANDS[args.command](args)
    except UsageError as exc:
        parser.print_usage(sys.stderr)
        print(f"error: {exc}", file=sys.stderr)
        return USAGE_ERROR
    except KeyboardInterrupt:
        print("\ninterrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # one line, no traceback: the message says what is wrong
        if os.environ.get("ANN_DEBUG"):
            raise
        message = " ".join(str(exc).split()) or type(exc).__name__
        print(f"error: {message}", file=sys.stderr)
        return FAILURE
