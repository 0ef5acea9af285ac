"""A deterministic, seeded FinSpace user directory.

Users are generated on demand from (seed, index), so a directory of 100,000 users costs
no memory until it is read. A userId ends with its index in base 36, so a lookup needs
no table either.
"""

import random
import string
from collections.abc import Iterator
from typing import Any

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
        self.user_count = user_count
        self.seed = seed

    def __len__(self) -> int:
        return self.user_count

    def __iter__(self) -> Iterator[dict[str, Any]]:
        return (self.user_at(index) for index in range(self.user_count))

    def page(self, offset: int, limit: int) -> list[dict[str, Any]]:
        return [self.user_at(index) for index in range(offset, min(offset + limit, self.user_count))]

    def find(self, user_id: str) -> dict[str, Any] | None:
        try:
            index = int(user_id[-INDEX_DIGITS:], 36)
        except ValueError:
            return None
        if index >= self.user_count:
            return None
        user = self.user_at(index)
        return user if user["userId"] == user_id else None

    def user_at(self, index: int) -> dict[str, Any]:
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
            user["apiAccessPrincipalArn"] = f"arn:aws:iam::123456789012:role/finspace-api-{index}"
        if status == "DISABLED":
            user["lastDisabledTime"] = created + rng.randint(300, 399) * DAY_MS
        # About one user in eight never logged in; of the rest, most did recently and
        # some not for months, so an access review finds a realistic dormant share.
        if rng.random() >= 0.125:
            days_ago = rng.randint(0, 45) if rng.random() < 0.7 else rng.randint(46, 400)
            user["lastLoginTime"] = REFERENCE_NOW_MS - days_ago * DAY_MS
        return user
