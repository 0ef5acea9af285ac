"""make bench changes a share of the directory between snapshots and checks that the
change report counts exactly those changes; here, that it makes the changes it counts."""

import pytest

from benchmarks.run import change_users
from localdev.harness.finspace_emulator import FinSpaceEmulator

COMPARED = ("status", "type", "lastName")  # the fields change_users edits, in turn


@pytest.mark.parametrize(("how_many", "expected"), [(0, (0, 0, 0)), (20, (6, 6, 8)), (25, (7, 7, 11))])
def test_change_users_makes_the_changes_it_counts(how_many: int, expected: tuple[int, int, int]) -> None:
    emulator = FinSpaceEmulator(user_count=200, seed=9)
    before = {user["userId"]: user for user in emulator.directory}

    counts = change_users(emulator, how_many, seed=3)

    after = {user["userId"]: user for user in emulator.directory}
    changed = [
        user_id
        for user_id in before.keys() & after.keys()
        if any(before[user_id].get(field) != after[user_id].get(field) for field in COMPARED)
    ]
    found = (len(after.keys() - before.keys()), len(before.keys() - after.keys()), len(changed))
    assert (counts["added"], counts["removed"], counts["changed"]) == found == expected
