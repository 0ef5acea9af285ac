"""Local tooling, never shipped to Lambda: the commands users type (python -m
localdev.<command>), each its own module that imports only localdev.harness, where
everything they share lives.
"""

# Compatibility, until localdev/sam_local.py imports these from localdev.harness.commands.
from localdev.harness.commands import DefaultsHelpFormatter, cli_description, command_parser, run_interruptibly

__all__ = ["DefaultsHelpFormatter", "cli_description", "command_parser", "run_interruptibly"]
