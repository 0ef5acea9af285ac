"""openapi.json: generated from the handlers, current, valid, and honest about errors."""

import json

from openapi_spec_validator import validate

from finspace_users.http.models import USER_EXAMPLE, User
from localdev.openapi import OPENAPI_PATH, generate, render


def test_committed_document_matches_the_handlers() -> None:
    assert OPENAPI_PATH.read_text() == render(generate()), "openapi.json is stale: run `make openapi`"


def test_document_is_valid_openapi_3_1() -> None:
    document = json.loads(OPENAPI_PATH.read_text())
    assert document["openapi"].startswith("3.1")
    validate(document)


def test_every_error_status_is_a_documented_problem() -> None:
    document = json.loads(OPENAPI_PATH.read_text())
    statuses = {}
    for path, operations in document["paths"].items():
        responses = operations["get"]["responses"]
        statuses[path] = sorted(responses)
        assert "200" in responses and "application/json" in responses["200"]["content"]
        for status, response in responses.items():
            assert response["headers"]["Cache-Control"]["schema"]["const"] == "no-store"
            if status == "200":
                continue
            content = response["content"]["application/problem+json"]
            assert content["schema"] == {"$ref": "#/components/schemas/ProblemDetails"}
            assert content["examples"], (path, status)
            for example in content["examples"].values():
                assert example["value"]["status"] == int(status)
    assert statuses == {
        "/users": ["200", "400", "403", "429", "500", "502", "504"],
        "/users/{userId}": ["200", "400", "403", "404", "429", "500", "502", "504"],
    }


def test_user_example_fits_the_user_schema() -> None:
    assert User.model_validate(USER_EXAMPLE).model_dump(exclude_none=True) == USER_EXAMPLE
