"""The snapshot's client parses successful ListUsers pages with orjson and leaves every
other response to botocore."""

from typing import Any

import boto3
import orjson
import pytest
from botocore.parsers import create_parser

from finspace_users.aws.orjson_page_parser import parse_users_page_with_orjson

PAGE = {
    "users": [
        {"userId": "aaaaaaaaaaaaaaaa000001", "status": "ENABLED", "createTime": 1_700_000_000_000},
        {"userId": "bbbbbbbbbbbbbbbb000002", "firstName": "Zoë", "lastLoginTime": 1_710_000_000_000},
    ],
    "nextToken": "+/+/AAAABwHQXG1OZg==",
}


def parsed(status_code: int, body: bytes) -> tuple[dict[str, Any], dict[str, Any]]:
    response_dict: dict[str, Any] = {"status_code": status_code, "headers": {}, "body": body}
    customized: dict[str, Any] = {}
    parse_users_page_with_orjson(response_dict=response_dict, customized_response_dict=customized)
    return response_dict, customized


def test_a_page_is_parsed_by_orjson_and_botocore_gets_an_empty_body() -> None:
    response_dict, customized = parsed(200, orjson.dumps(PAGE))

    assert customized == PAGE
    assert response_dict["body"] == b"{}"


@pytest.mark.parametrize(
    ("status_code", "body"),
    [
        (429, b'{"message": "Rate exceeded"}'),
        (500, b'{"message": "Internal"}'),
        (200, b'{"users": [{"userId": '),
        (200, b"<html>a proxy's error page</html>"),
        (200, b'["not", "a", "page"]'),
        (200, b'{"users": [{"userId": "aaaaaaaaaaaaaaaa000001", "apiAccessPrincipalArn": null}]}'),
    ],
    ids=["throttled", "server error", "truncated JSON", "not JSON", "not an object", "a null field"],
)
def test_anything_else_is_left_to_botocore(status_code: int, body: bytes) -> None:
    response_dict, customized = parsed(status_code, body)

    assert customized == {}
    assert response_dict["body"] == body


def test_botocore_drops_the_null_field_that_orjson_would_keep() -> None:
    """Why a page with a null goes to botocore: its parser leaves the field out, as
    FinSpace leaves out a field it has no value for."""
    operation = boto3.client("finspace-data", region_name="us-east-1").meta.service_model.operation_model("ListUsers")
    body = b'{"users": [{"userId": "aaaaaaaaaaaaaaaa000001", "apiAccessPrincipalArn": null}]}'
    assert operation.output_shape is not None
    page = create_parser("rest-json").parse({"status_code": 200, "headers": {}, "body": body}, operation.output_shape)

    assert page["users"] == [{"userId": "aaaaaaaaaaaaaaaa000001"}]
    assert orjson.loads(body)["users"] != page["users"]
