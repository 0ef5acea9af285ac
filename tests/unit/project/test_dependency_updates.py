"""The dependency-update configuration covers every pinned requirements file, and what it
ignores is pinned there on purpose; the locks beside them are make lock's, not its."""

import re
from pathlib import Path

import yaml

from localdev.harness.defaults import PROJECT_ROOT

CONFIG = yaml.safe_load((PROJECT_ROOT / ".github" / "dependabot.yml").read_text())


def requirements_files(directory: Path) -> list[Path]:
    """What Dependabot reads there: requirements*.txt, or every .txt of a requirements/ folder."""
    return sorted(directory.glob("*.txt" if directory.name == "requirements" else "requirements*.txt"))


def test_every_requirements_file_is_watched() -> None:
    watched = {update["directory"].strip("/") for update in CONFIG["updates"]}
    pinned = {
        path.parent.relative_to(PROJECT_ROOT).as_posix()
        for path in [*PROJECT_ROOT.glob("**/requirements*.txt"), *PROJECT_ROOT.glob("requirements/*.txt")]
        if not path.relative_to(PROJECT_ROOT).parts[0].startswith((".", "build"))
    }
    assert pinned == watched


def test_what_is_ignored_is_pinned_in_its_directory() -> None:
    for update in CONFIG["updates"]:
        directory = PROJECT_ROOT / update["directory"].strip("/")
        pins = "".join(path.read_text() for path in requirements_files(directory))
        for ignored in update.get("ignore", []):
            assert re.search(rf"^{re.escape(ignored['dependency-name'])}==", pins, re.M | re.I), ignored


def test_each_lock_is_beside_a_watched_requirements_file_and_is_not_read_as_one() -> None:
    """Dependabot moves the pins of the .txt; `make lock` (uv) makes the .lock from it."""
    watched = {
        PROJECT_ROOT / update["directory"].strip("/"): update["package-ecosystem"] for update in CONFIG["updates"]
    }
    locks = [*PROJECT_ROOT.glob("requirements/*.lock"), *PROJECT_ROOT.glob("layers/*/requirements.lock")]
    assert len(locks) == 6
    for lock in locks:
        assert watched.get(lock.parent) == "pip", lock
        read = requirements_files(lock.parent)
        assert lock.with_suffix(".txt") in read and lock not in read, lock
