"""What every local command shares: its parser, named as users type it, its Ctrl-C, and
quiet servers.

Standard library only: localdev.transform imports it in SAM CLI's venv.
"""

import argparse
import logging
import os
import signal
import sys
import warnings
from collections.abc import Callable
from types import FrameType


def cli_description(doc: str | None) -> str:
    """A tool's --help description: its docstring's whole first paragraph, on one line."""
    return " ".join((doc or "").split("\n\n")[0].split())


class DefaultsHelpFormatter(argparse.HelpFormatter):
    """--help names each option's default, unless there is none or its help already says it."""

    def _get_help_string(self, action: argparse.Action) -> str:
        help_text = action.help or ""
        if action.default in (None, False, argparse.SUPPRESS) or "default" in help_text or not action.option_strings:
            return help_text
        return f"{help_text} (default: %(default)s)"


def command_parser(module_name: str, doc: str | None) -> argparse.ArgumentParser:
    """The parser of a local command, named as users type it (python -m localdev.run),
    with its docstring's first paragraph and every default shown."""
    return argparse.ArgumentParser(
        prog=f"python -m {module_name}", description=cli_description(doc), formatter_class=DefaultsHelpFormatter
    )


def _interrupted(signum: int, frame: FrameType | None) -> None:
    # The first Ctrl-C unwinds the command (its stack stops); any further one waits for that.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    raise KeyboardInterrupt


def run_interruptibly(main: Callable[[], None], stopped: str) -> None:
    """Run a command's main so that Ctrl-C (SIGINT) or SIGTERM ends it at once: what it
    started stops, `stopped` is printed on one line, and no traceback.

    Under make, make was interrupted too and exits by the signal itself; a status of ours
    would only add make's `*** [...] Error 130` line, so it is 0 there and 130 elsewhere.
    Threads still working (a snapshot's worker) do not hold the exit up.
    """
    signal.signal(signal.SIGINT, _interrupted)
    signal.signal(signal.SIGTERM, _interrupted)
    try:
        main()
    except KeyboardInterrupt:
        # A terminal shows ^C where the cursor was: the line starts below it.
        print(("\n" if sys.stderr.isatty() else "") + stopped, file=sys.stderr, flush=True)
        sys.stdout.flush()
        os._exit(0 if "MAKELEVEL" in os.environ else 130)
    finally:
        # A Ctrl-C as it ends, while Python shuts down, ends it no differently.
        signal.signal(signal.SIGINT, signal.SIG_IGN)


def quiet_server_logs() -> None:
    """No line per request from the emulator's and moto's servers (werkzeug), and no
    warning that an error path published no metric: a command's own output only."""
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    warnings.filterwarnings("ignore", message="No application metrics to publish")
