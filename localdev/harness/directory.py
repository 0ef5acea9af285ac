"""A deterministic, seeded FinSpace user directory, which tests and people can change.

Users are generated on demand from (seed, index), so a directory of 100,000 users costs
no memory until it is read. A userId ends with its index in base 36, so a lookup needs
no table either. Only edits are stored: a user added, changed or removed since seeding.
"""

import argparse
import random
import string
from collections.abc import Iterator
from typing import Any

from localdev.harness.defaults import ACCOUNT_ID

FIRST_NAMES = (
    "Aurelio",
    "Brunhilde",
    "Cassius",
    "Desdemona",
    "Evander",
    "Fenella",
    "Gideon",
    "Henrietta",
    "Ignatius",
    "Jessamine",
    "Kazimierz",
    "Leocadia",
    "Maximilian",
    "Nerissa",
    "Octavian",
    "Perpetua",
    "Quillon",
    "Rosalind",
    "Sebastiano",
    "Theodora",
    "Ulrich",
    "Valentina",
    "Wilhelmina",
    "Xenophon",
)
LAST_NAMES = (
    "Abernathy",
    "Blackwood",
    "Castellano",
    "Drummond",
    "Eastwick",
    "Fairweather",
    "Grimaldi",
    "Hawthorne",
    "Inglethorp",
    "Jorgensen",
    "Kowalczyk",
    "Lindqvist",
    "Montgomery",
    "Nakamura",
    "Oyelaran",
    "Pemberton",
    "Quartermaine",
    "Rasmussen",
    "Sandoval",
    "Thistlewood",
    "Umberfield",
    "Vanderbilt",
    "Whitlock",
    "Yamamoto",
)
EMAIL_DOMAINS = ("example.com", "example.org", "example.net")

# A fixed "now" keeps every generated timestamp identical from one run to the next.
REFERENCE_NOW_MS = 1_793_491_200_000  # 2026-11-01T00:00:00Z
DAY_MS = 86_400_000
INDEX_DIGITS = 6
_ID_ALPHABET = string.ascii_letters + string.digits


def add_directory_options(parser: argparse.ArgumentParser) -> None:
    """--users and --seed, for each local server that seeds a directory."""
    parser.add_argument("--users", type=int, default=50, help="how many seeded FinSpace users")
    parser.add_argument(
        "--seed", type=int, default=42, help="seed of the generated users (the same seed, the same users)"
    )


def _base36(number: int) -> str:
    digits = "0123456789abcdefghijklmnopqrstuvwxyz"
    text = ""
    while True:
        number, remainder = divmod(number, 36)
        text = digits[remainder] + text
        if number == 0:
            return text.rjust(INDEX_DIGITS, "0")


class SeededDirectory:
    def __init__(self, user_count: int, seed: int = 42) -> None:
        if not 0 <= user_count < 36**INDEX_DIGITS:
            raise ValueError("user_count out of range")
        self.user_count = user_count  # indices handed out so far, removed users included
        self.seed = seed
        self._edited: dict[int, dict[str, Any] | None] = {}  # None: removed
        self._removed = 0

    def __len__(self) -> int:
        return self.user_count - self._removed

    def __iter__(self) -> Iterator[dict[str, Any]]:
        return (user for index in range(self.user_count) if (user := self._current(index)) is not None)

    def page(self, cursor: int, limit: int) -> tuple[list[dict[str, Any]], int | None]:
        """Up to `limit` users from index `cursor` on, and the cursor after them (None at
        the end). Removed users leave gaps, as deleted rows do in a real listing."""
        users: list[dict[str, Any]] = []
        index = cursor
        while index < self.user_count and len(users) < limit:
            user = self._current(index)
            if user is not None:
                users.append(user)
            index += 1
        more = any(self._edited.get(later, "seeded") is not None for later in range(index, self.user_count))
        return users, index if more else None

    def find(self, user_id: str) -> dict[str, Any] | None:
        try:
            index = int(user_id[-INDEX_DIGITS:], 36)
        except ValueError:
            return None
        if index >= self.user_count:
            return None
        user = self._current(index)
        return user if user is not None and user["userId"] == user_id else None

    def add_users(self, count: int) -> list[str]:
        """Hire `count` new users; returns their ids."""
        first = self.user_count
        if not 1 <= count < 36**INDEX_DIGITS - first:
            raise ValueError(f"count must be between 1 and {36**INDEX_DIGITS - first - 1}")
        self.user_count += count
        return [self.user_at(index)["userId"] for index in range(first, self.user_count)]

    def update_user(self, user_id: str, fields: dict[str, Any], *, modified_ms: int) -> dict[str, Any]:
        """Set fields; a None value removes the field, as FinSpace omits unset ones."""
        if "userId" in fields:
            raise ValueError("a user's userId cannot change")
        index, user = self._located(user_id)
        edited = {**user, "lastModifiedTime": modified_ms}
        for name, value in fields.items():
            if value is None:
                edited.pop(name, None)
            else:
                edited[name] = value
        self._edited[index] = edited
        return edited

    def remove_user(self, user_id: str) -> None:
        index, _ = self._located(user_id)
        self._edited[index] = None
        self._removed += 1

    def user_at(self, index: int) -> dict[str, Any]:
        user = self._current(index)
        if user is None:
            raise LookupError(f"user {index} was removed")
        return user

    def _located(self, user_id: str) -> tuple[int, dict[str, Any]]:
        user = self.find(user_id)
        if user is None:
            raise LookupError(f"no user {user_id}")
        return int(user_id[-INDEX_DIGITS:], 36), user

    def _current(self, index: int) -> dict[str, Any] | None:
        return self._edited[index] if index in self._edited else self._generated(index)

    def _generated(self, index: int) -> dict[str, Any]:
        rng = random.Random(f"{self.seed}:{index}")
        user_id = "".join(rng.choice(_ID_ALPHABET) for _ in range(16)) + _base36(index)
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        status = rng.choices(("ENABLED", "DISABLED", "CREATING"), weights=(80, 15, 5))[0]
        api_access = "ENABLED" if rng.random() < 0.3 else "DISABLED"
        created = REFERENCE_NOW_MS - rng.randint(400, 2000) * DAY_MS
        user: dict[str, Any] = {
            "userId": user_id,
            "status": status,
            "firstName": first,
            "lastName": last,
            "emailAddress": f"{first}.{last}.{index}@{rng.choice(EMAIL_DOMAINS)}".lower(),
            "type": "SUPER_USER" if rng.random() < 0.05 else "APP_USER",
            "apiAccess": api_access,
            "createTime": created,
            "lastEnabledTime": created + rng.randint(0, 10) * DAY_MS,
            "lastModifiedTime": created + rng.randint(10, 300) * DAY_MS,
        }
        if api_access == "ENABLED":
            user["apiAccessPrincipalArn"] = f"arn:aws:iam::{ACCOUNT_ID}:role/finspace-api-{index}"
        if status == "DISABLED":
            user["lastDisabledTime"] = created + rng.randint(300, 399) * DAY_MS
        # About one user in eight never logged in; of the rest, most did recently and
        # some not for months, so an access review finds a realistic dormant share.
        if rng.random() >= 0.125:
            days_ago = rng.randint(0, 45) if rng.random() < 0.7 else rng.randint(46, 400)
            user["lastLoginTime"] = REFERENCE_NOW_MS - days_ago * DAY_MS
        return user
