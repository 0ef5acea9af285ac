"""make help names every target a user types, and make clean removes what the others
make (issue #21)."""

import re

from localdev.harness.defaults import PROJECT_ROOT
from tests.helpers import make_output

MAKEFILE = (PROJECT_ROOT / "Makefile").read_text()
# Steps of other targets, never typed on their own.
INTERNAL = {"help", "pytest", "transform", "build-x86_64"}
# What the targets and the tests leave in the checkout.
MADE = (
    "build",
    ".aws-sam",
    ".venv",
    ".venv-sam",
    ".venv-scan",
    ".venv-uv",
    ".hypothesis",
    ".schemathesis",
    "__pycache__",
)


def test_make_help_names_every_target() -> None:
    (phony,) = re.findall(r"^\.PHONY: (.*)$", MAKEFILE, re.MULTILINE)
    shown = make_output("-s", "help")

    missing = [target for target in phony.split() if target not in INTERNAL and not re.search(rf"\b{target}\b", shown)]

    assert not missing, shown


def test_make_clean_removes_what_the_targets_and_tests_make() -> None:
    planned = make_output("-n", "clean")

    for made in MADE:
        assert made in planned, made


def test_what_the_tests_make_is_ignored_by_git() -> None:
    ignored = (PROJECT_ROOT / ".gitignore").read_text().splitlines()

    for made in (".hypothesis/", ".schemathesis/", "__pycache__/", "/build/"):
        assert made in ignored, made
