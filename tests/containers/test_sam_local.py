"""Every event in events/ through `sam local invoke` on the x86_64 build, and SAM's own
local API, against the emulator and moto: the artifact Lambda runs, run the way Lambda
runs it (Runtime Interface Emulator, read-only /var/task, layers in /opt)."""

import hashlib
import json
from datetime import datetime

import boto3
import pytest
import requests

from localdev.harness.sam import SamLocal
from localdev.harness.stack import LOCAL_BUCKET_NAME
from tests.helpers import API_EVENTS, CANARY_EVENTS, EVENTS_DIR, SNAPSHOT_EVENTS, check_api_answer, load_event


@pytest.mark.parametrize("file_name", sorted(API_EVENTS))
def test_api_event_gets_the_expected_answer(local: SamLocal, file_name: str) -> None:
    function_name = API_EVENTS[file_name][0]

    response = local.invoke(function_name, EVENTS_DIR / file_name)

    check_api_answer(file_name, load_event(file_name), response)


@pytest.mark.parametrize("file_name", sorted(SNAPSHOT_EVENTS))
def test_snapshot_event_writes_its_objects_to_s3(local: SamLocal, file_name: str) -> None:
    scheduled_time = SNAPSHOT_EVENTS[file_name]

    summary = local.invoke("ListUsersFunction", EVENTS_DIR / file_name)

    assert summary["scheduledTime"] == scheduled_time
    assert summary["userCount"] == len(local.stack.emulator.directory)
    s3 = boto3.client("s3", endpoint_url=local.stack.moto_url)
    prefix = datetime.fromisoformat(scheduled_time).strftime(f"snapshots/%Y/%m/%d/{scheduled_time}/")
    listing = s3.list_objects_v2(Bucket=LOCAL_BUCKET_NAME, Prefix=prefix)["Contents"]
    assert sorted(item["Key"] for item in listing) == [prefix + "summary.json", prefix + "users.jsonl"]
    users = s3.get_object(Bucket=LOCAL_BUCKET_NAME, Key=prefix + "users.jsonl")["Body"].read()
    stored_summary = json.loads(s3.get_object(Bucket=LOCAL_BUCKET_NAME, Key=prefix + "summary.json")["Body"].read())
    assert stored_summary == summary
    assert summary["usersObject"] == {
        "key": prefix + "users.jsonl",
        "sha256": hashlib.sha256(users).hexdigest(),
        "bytes": len(users),
    }
    user_ids = [json.loads(line)["userId"] for line in users.splitlines()]
    assert user_ids == [user["userId"] for user in local.stack.emulator.directory]


@pytest.mark.parametrize("file_name", sorted(CANARY_EVENTS))
def test_canary_event_succeeds(local: SamLocal, file_name: str) -> None:
    outcome = local.invoke("GetUserFunction", EVENTS_DIR / file_name)

    assert outcome["action"] == "canary"
    assert outcome["success"] is True
    assert outcome["status"] == 200


def test_sam_local_api_serves_both_routes(local: SamLocal) -> None:
    first_user = local.stack.emulator.directory.user_at(0)["userId"]
    with local.start_api() as url:
        page = requests.get(f"{url}/users", params={"maxResults": "3"}, timeout=60)
        user = requests.get(f"{url}/users/{first_user}", timeout=60)

    assert page.status_code == 200
    assert page.headers["Cache-Control"] == "no-store"
    assert [listed["userId"] for listed in page.json()["users"]] == [
        local.stack.emulator.directory.user_at(index)["userId"] for index in range(3)
    ]
    assert user.status_code == 200
    assert user.json()["userId"] == first_user
