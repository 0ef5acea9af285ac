"""One source for every problem text: the catalogue in finspace_users/contracts/problems.py.

The functions answer from it. API Gateway's own answers are written out in template.yaml
and openapi.json is generated; both are held to the catalogue here, as SAM deploys the
template too, so that a type cannot change its title or status in one place only.
"""

import json
from http import HTTPStatus
from typing import Any

import pytest
from botocore.exceptions import ClientError, EndpointConnectionError, ReadTimeoutError

from finspace_users.contracts import problems
from finspace_users.contracts.problems import (
    DIRECT_INVOCATION_ONLY,
    GATEWAY_RESPONSES,
    PROBLEM_CONTENT_TYPE,
    PROBLEM_TYPE_PREFIX,
    Problem,
    ProblemType,
    problem_for_exception,
)
from localdev.harness.template import load_template
from localdev.openapi import OPENAPI_PATH
from tests.unit.template.test_deployed_template import TEMPLATE as DEPLOYED_TEMPLATE

BY_URI = {problem_type.uri: problem_type for problem_type in ProblemType}
# Every answer with a fixed detail: the functions' and API Gateway's.
FIXED_ANSWERS = [value for value in vars(problems).values() if isinstance(value, Problem)] + list(
    GATEWAY_RESPONSES.values()
)
# Types whose detail names what was wrong with this request: any text may be an example.
VARIABLE_DETAIL = {ProblemType.BAD_REQUEST, ProblemType.UNSUPPORTED_EVENT}
PROBLEM_HEADERS = {"Content-Type": PROBLEM_CONTENT_TYPE, "Cache-Control": "no-store"}


def test_each_type_has_one_slug_one_status_and_one_title() -> None:
    slugs = [problem_type.slug for problem_type in ProblemType]
    assert len(slugs) == len(set(slugs))
    for problem_type in ProblemType:
        assert 400 <= problem_type.status < 600, problem_type
        assert problem_type.title and problem_type.title[0].isupper(), problem_type


# A failure of each kind a FinSpace call can raise, and our own bug.
FAILURES: list[Exception] = [
    *(
        ClientError(
            {
                "Error": {"Code": code},
                "ResponseMetadata": {
                    "HTTPStatusCode": status,
                    "RequestId": "r",
                    "HostId": "",
                    "HTTPHeaders": {},
                    "RetryAttempts": 0,
                },
            },
            "GetUser",
        )
        for code, status in [
            ("ValidationException", 400),
            ("ResourceNotFoundException", 404),
            ("ThrottlingException", 429),
            ("AccessDeniedException", 403),
            ("InternalServerException", 500),
        ]
    ),
    ReadTimeoutError(endpoint_url="https://finspace-api"),
    EndpointConnectionError(endpoint_url="https://finspace-api"),
    RuntimeError("a bug"),
]


def test_every_type_is_answered_by_a_function_or_by_api_gateway() -> None:
    """What the error mapping gives for real failures, API Gateway's own answers, and the
    three the functions build themselves (tests/unit/functions and schedules check those
    are answered: route-not-found, bad-request and unsupported-event)."""
    answered = {problem_for_exception(failure).problem_type for failure in FAILURES}
    answered |= {answer.problem_type for answer in GATEWAY_RESPONSES.values()}
    answered |= {ProblemType.ROUTE_NOT_FOUND, ProblemType.BAD_REQUEST, ProblemType.UNSUPPORTED_EVENT}
    assert answered == set(ProblemType)


def expected_gateway_response(name: str) -> tuple[int, dict[str, Any], dict[str, str]]:
    problem = GATEWAY_RESPONSES[name]
    return problem.status, problem.body("$context.requestId"), PROBLEM_HEADERS | problem.headers


def test_templates_gateway_responses_are_the_catalogues() -> None:
    responses = load_template()["Resources"]["UsersApi"]["Properties"]["GatewayResponses"]
    assert set(responses) == set(GATEWAY_RESPONSES)
    for name, response in responses.items():
        body = json.loads(response["ResponseTemplates"]["application/json"])
        headers = {header: value.strip("'") for header, value in response["ResponseParameters"]["Headers"].items()}
        assert (response["StatusCode"], body, headers) == expected_gateway_response(name), name


def test_deployed_gateway_responses_are_the_catalogues() -> None:
    """The same, in what SAM's transform hands to API Gateway (its OpenAPI extension)."""
    (api,) = (
        resource["Properties"]["Body"]
        for resource in DEPLOYED_TEMPLATE["Resources"].values()
        if resource["Type"] == "AWS::ApiGateway::RestApi"
    )
    responses = api["x-amazon-apigateway-gateway-responses"]
    assert set(responses) == set(GATEWAY_RESPONSES)
    for name, response in responses.items():
        body = json.loads(response["responseTemplates"]["application/json"])
        headers = {
            parameter.removeprefix("gatewayresponse.header."): value.strip("'")
            for parameter, value in response["responseParameters"].items()
        }
        assert (int(response["statusCode"]), body, headers) == expected_gateway_response(name), name


def test_openapi_documents_each_type_a_caller_can_get_as_the_catalogue_has_it() -> None:
    document = json.loads(OPENAPI_PATH.read_text())
    fixed_bodies = [answer.body(None) for answer in FIXED_ANSWERS]
    for path, operations in document["paths"].items():
        for status, response in operations["get"]["responses"].items():
            if status == "200":
                continue
            examples = response["content"][PROBLEM_CONTENT_TYPE]["examples"]
            expected = {
                problem_type.slug
                for problem_type in ProblemType
                if problem_type.status == int(status) and problem_type not in DIRECT_INVOCATION_ONLY
            }
            assert set(examples) == expected, (path, status)
            for slug, example in examples.items():
                body = example["value"]
                problem_type = BY_URI[body["type"]]
                assert (problem_type.slug, problem_type.status, problem_type.title) == (
                    slug,
                    body["status"],
                    body["title"],
                ), (path, status)
                if problem_type not in VARIABLE_DETAIL:
                    assert body | {"requestId": None} in fixed_bodies, (path, status, slug)


@pytest.mark.parametrize(
    "status",
    [
        400,
        414,
        431,
        505,
    ],
)
def test_the_local_fronts_own_problems_do_not_give_a_catalogue_type_another_title(status: int) -> None:
    """`make run`'s HTTP server answers these itself: their types are the status's own,
    and where one is also a catalogue type, it must be that type."""
    from localdev.harness.front import server_problem

    body = json.loads(server_problem(status, HTTPStatus(status).phrase))
    assert body["type"].startswith(PROBLEM_TYPE_PREFIX)
    if body["type"] in BY_URI:
        problem_type = BY_URI[body["type"]]
        assert (body["status"], body["title"]) == (problem_type.status, problem_type.title)
