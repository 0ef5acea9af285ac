"""Commit subjects fit git's one-line views: at most 72 characters, from the commit that
adopted the rule on (CONTRIBUTING.md, "Commits")."""

import subprocess
from pathlib import Path

import pytest

PROJECT_ROOT = Path(__file__).resolve().parents[3]
# The last commit before the rule; every commit after it is checked.
RULE_ADOPTED_AFTER = "23071f3"
MAX_SUBJECT = 72


def git(*arguments: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603 - git on this checkout
        ["/usr/bin/git", *arguments], cwd=PROJECT_ROOT, capture_output=True, text=True, check=False
    )


def test_every_commit_subject_since_the_rule_is_at_most_72_characters() -> None:
    if git("cat-file", "-e", f"{RULE_ADOPTED_AFTER}^{{commit}}").returncode != 0:
        pytest.skip(f"a shallow clone without {RULE_ADOPTED_AFTER}: nothing to compare with")
    subjects = git("log", "--format=%h %s", f"{RULE_ADOPTED_AFTER}..HEAD").stdout.splitlines()
    too_long = [line for line in subjects if len(line.split(" ", 1)[1]) > MAX_SUBJECT]
    assert not too_long, f"subjects over {MAX_SUBJECT} characters: {too_long}"
