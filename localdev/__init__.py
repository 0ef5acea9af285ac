"""Local tooling: the FinSpace Data emulator, the in-process invoker and the HTTP front.

Never shipped to Lambda.
"""


def cli_description(doc: str | None) -> str:
    """A tool's --help description: its docstring's whole first paragraph, on one line."""
    return " ".join((doc or "").split("\n\n")[0].split())
