"""Every file in events/ runs through its function in-process, as `make invoke` and
`sam local invoke -e` run it, against the local stack."""

import json
from pathlib import Path

import pytest

from localdev.invoke import LocalFunction
from localdev.template import PROJECT_ROOT

EVENTS_DIR = PROJECT_ROOT / "events"
EXPECTED = {
    "get_user.json": ("GetUserFunction", 200),
    "get_user_not_found.json": ("GetUserFunction", 404),
    "list_users.json": ("ListUsersFunction", 200),
    "list_users_bad_max_results.json": ("ListUsersFunction", 400),
}


def test_every_event_file_has_an_expectation() -> None:
    assert {path.name for path in EVENTS_DIR.glob("*.json")} == set(EXPECTED)


@pytest.mark.parametrize("file_name", sorted(EXPECTED))
def test_event_file_gets_the_expected_answer(stack_functions: dict[str, LocalFunction], file_name: str) -> None:
    function_name, status = EXPECTED[file_name]
    event = json.loads(Path(EVENTS_DIR / file_name).read_text())

    response = stack_functions[function_name].invoke(event)

    assert response["statusCode"] == status
    body = json.loads(response["body"])
    if status == 200 and function_name == "ListUsersFunction":
        assert len(body["users"]) == int(event["queryStringParameters"]["maxResults"])
    elif status == 200:
        assert body["userId"] == event["pathParameters"]["userId"]
    else:
        assert body["status"] == status
