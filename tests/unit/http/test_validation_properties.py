"""Property tests of input validation: for any userId, maxResults and nextToken, the API
answers 400 exactly when the value breaks FinSpace's rule, and otherwise hands FinSpace
that exact value."""

import json
import re
from typing import Any
from urllib.parse import quote

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from localdev.harness.lambda_runtime import LocalFunction
from tests.helpers import api_event, problem_of

# ASCII without control characters, plus the common white space: Python's and pydantic's
# (Rust's) regex engines agree on what \S means there.
TEXT = st.text(st.characters(codec="ascii", exclude_categories=["Cc"]) | st.sampled_from(" \t\n"), max_size=40)
PROPERTY_SETTINGS = settings(max_examples=200, derandomize=True, deadline=None)


class RecordingFinSpace:
    def __init__(self) -> None:
        self.calls: list[tuple[Any, ...]] = []

    def get_user(self, user_id: str) -> dict[str, Any]:
        self.calls.append((user_id,))
        return {"userId": user_id}

    def list_users_page(self, max_results: int, next_token: str | None, context: Any) -> tuple[dict[str, Any], str]:
        self.calls.append((max_results, next_token))
        return {"users": []}, "off"


@pytest.fixture(scope="module")
def finspace(unit_functions: dict[str, LocalFunction]) -> Any:
    recording = RecordingFinSpace()
    patch = pytest.MonkeyPatch()
    patch.setattr(unit_functions["GetUserFunction"].module.finspace, "get_user", recording.get_user)
    patch.setattr(unit_functions["ListUsersFunction"].module, "cached_list_users_page", recording.list_users_page)
    yield recording
    patch.undo()


def is_valid_user_id(value: str) -> bool:
    return 1 <= len(value) <= 26 and re.search(r".*\S.*", value) is not None


@PROPERTY_SETTINGS
@given(user_id=TEXT)
def test_user_id_is_refused_exactly_when_finspace_would_refuse_it(
    unit_functions: dict[str, LocalFunction], finspace: RecordingFinSpace, user_id: str
) -> None:
    finspace.calls.clear()
    event = api_event(f"/users/{quote(user_id, safe='')}", "/users/{userId}", path_parameters={"userId": user_id})

    response = unit_functions["GetUserFunction"].invoke(event)

    if is_valid_user_id(user_id):
        assert response["statusCode"] == 200
        assert finspace.calls == [(user_id,)]
    else:
        assert response["statusCode"] == 400
        assert "userId" in problem_of(response, event)["detail"]
        assert finspace.calls == []


@PROPERTY_SETTINGS
@given(max_results=st.integers() | st.text(st.characters(categories=["L"]), min_size=1, max_size=10))
def test_max_results_is_an_integer_from_1_to_100(
    unit_functions: dict[str, LocalFunction], finspace: RecordingFinSpace, max_results: int | str
) -> None:
    finspace.calls.clear()
    event = api_event("/users", "/users", f"maxResults={quote(str(max_results), safe='')}")

    response = unit_functions["ListUsersFunction"].invoke(event)

    if isinstance(max_results, int) and 1 <= max_results <= 100:
        assert response["statusCode"] == 200
        assert finspace.calls == [(max_results, None)]
    else:
        assert response["statusCode"] == 400
        assert "maxResults" in problem_of(response, event)["detail"]
        assert finspace.calls == []


@PROPERTY_SETTINGS
@given(next_token=st.text(max_size=60) | st.text(min_size=4090, max_size=4100, alphabet="ab+/="))
def test_next_token_reaches_finspace_unchanged(
    unit_functions: dict[str, LocalFunction], finspace: RecordingFinSpace, next_token: str
) -> None:
    finspace.calls.clear()
    event = api_event("/users", "/users", f"nextToken={quote(next_token, safe='')}")

    response = unit_functions["ListUsersFunction"].invoke(event)

    if 1 <= len(next_token) <= 4096:
        assert response["statusCode"] == 200, json.loads(response["body"])
        assert finspace.calls == [(100, next_token)]
    else:
        assert response["statusCode"] == 400
        assert "nextToken" in problem_of(response, event)["detail"]
        assert finspace.calls == []
