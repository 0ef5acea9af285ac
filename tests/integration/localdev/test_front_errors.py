"""Every answer of the local front is an RFC 9457 problem with no-store, including the
ones its HTTP server gives before any function runs (it reads request lines of up to
65,536 bytes): each a real HTTP/1.1 response, with a status line, and a problem whose
type and title are its status's."""

import json
import re
import socket
from http import HTTPStatus
from typing import Any
from urllib.parse import urlsplit

import pytest
import requests

from finspace_users.contracts.problems import ProblemType
from tests.helpers import CALLER_AUTH, PROBLEM_FIELDS, http_problem_of


def raw_exchange(api_url: str, request: bytes) -> tuple[int, dict[str, str], dict[str, Any]]:
    """Send bytes no HTTP client would, and parse the answer by hand."""
    address = urlsplit(api_url)
    with socket.create_connection((address.hostname, address.port or 80), timeout=30) as connection:
        connection.sendall(request)
        received = b""
        while chunk := connection.recv(65536):
            received += chunk
    head, _, body = received.partition(b"\r\n\r\n")
    status_line, *header_lines = head.decode("latin-1").split("\r\n")
    assert re.fullmatch(r"HTTP/1\.[01] \d{3} .+", status_line), received[:300]
    headers = {name.lower(): value.strip() for name, _, value in (line.partition(":") for line in header_lines)}
    return int(status_line.split()[1]), headers, json.loads(body)


def check_problem(status: int, headers: dict[str, str], body: dict[str, Any], slug: str) -> None:
    assert headers["content-type"] == "application/problem+json"
    assert headers["cache-control"] == "no-store"
    assert set(body) == PROBLEM_FIELDS
    assert body["status"] == status
    assert body["type"] == f"urn:finspace-users:problem:{slug}"
    # The catalogue's title where it has the type (400 bad-request), else the status's phrase.
    catalogue_titles = {problem_type.slug: problem_type.title for problem_type in ProblemType}
    assert body["title"] == catalogue_titles.get(slug, HTTPStatus(status).phrase)
    assert body["requestId"]


def test_request_line_longer_than_the_server_reads_is_a_414_problem(api_url: str) -> None:
    path = "/users/" + "x" * 100_000

    status, headers, body = raw_exchange(api_url, f"GET {path} HTTP/1.1\r\nHost: x\r\n\r\n".encode())

    assert status == 414
    check_problem(status, headers, body, "uri-too-long")


def test_long_url_under_that_limit_reaches_the_api(api_url: str) -> None:
    """A nextToken of the longest length the API accepts, percent-encoded, is still served."""
    token = "+/=" * 1365  # 4,095 characters, 12,285 once percent-encoded

    response = requests.get(f"{api_url}/users", params={"nextToken": token}, auth=CALLER_AUTH, timeout=30)

    assert response.status_code == 400  # FinSpace's answer to a token it never issued
    assert http_problem_of(response, "bad-request")["detail"]


def test_malformed_request_line_is_a_400_problem(api_url: str) -> None:
    status, headers, body = raw_exchange(api_url, b"GET /users two-targets HTTP/1.1\r\nHost: x\r\n\r\n")

    assert status == 400
    check_problem(status, headers, body, "bad-request")


@pytest.mark.parametrize(
    "request_line",
    [b"GET /users", b"POST /users", b"GET", b"GET /users HTTP/1.1 extra"],
    ids=["two-part GET (HTTP/0.9)", "two-part POST", "one part", "four parts"],
)
def test_request_line_of_the_wrong_shape_is_a_400_problem_with_a_status_line(api_url: str, request_line: bytes) -> None:
    status, headers, body = raw_exchange(api_url, request_line + b"\r\n\r\n")

    assert status == 400
    check_problem(status, headers, body, "bad-request")


def test_unknown_http_version_is_a_505_problem(api_url: str) -> None:
    status, headers, body = raw_exchange(api_url, b"GET /users HTTP/9.9\r\nHost: x\r\n\r\n")

    assert status == 505
    check_problem(status, headers, body, "http-version-not-supported")


def test_too_many_headers_is_a_431_problem(api_url: str) -> None:
    many = "".join(f"X-Filler-{index}: {index}\r\n" for index in range(150))

    status, headers, body = raw_exchange(api_url, f"GET /users HTTP/1.1\r\nHost: x\r\n{many}\r\n".encode())

    assert status == 431
    check_problem(status, headers, body, "request-header-fields-too-large")


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE", "PATCH", "OPTIONS"])
def test_undeclared_method_is_api_gateways_403_problem(api_url: str, method: str) -> None:
    response = requests.request(method, f"{api_url}/users", auth=CALLER_AUTH, timeout=30)

    assert response.status_code == 403
    http_problem_of(response, "forbidden")
