"""A local HTTP front for the API: each request becomes an API Gateway REST (v1) proxy
event, routed by the template's Api events to the right function, invoked in-process.

Like API Gateway REST, ``path`` keeps its percent-encoding while ``pathParameters`` and
``queryStringParameters`` are decoded (``+`` stays ``+``).
"""

import base64
import json
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any
from urllib.parse import unquote

from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server
from werkzeug.wrappers import Request, Response

from finspace_users.contracts.problems import ProblemType
from localdev.harness.defaults import ACCOUNT_ID, HOST
from localdev.harness.lambda_runtime import LocalFunction
from localdev.harness.sigv4 import SignatureError, request_uri, verify
from localdev.harness.template import resources_of_type, route_pattern

STAGE = "local"
PROBLEM_TYPES = {problem_type.slug: problem_type for problem_type in ProblemType}


def server_problem(status: int, detail: str) -> bytes:
    """A problem for a status the HTTP server answers itself: its type is the status's own
    (400 bad-request, 505 http-version-not-supported ...), titled as the catalogue titles
    it, else by the status's phrase."""
    slug = HTTPStatus(status).phrase.lower().replace(" ", "-")
    problem_type = PROBLEM_TYPES.get(slug)
    title = problem_type.title if problem_type else HTTPStatus(status).phrase
    problem = {"type": f"urn:finspace-users:problem:{slug}", "title": title, "status": status, "detail": detail}
    return json.dumps({**problem, "requestId": str(uuid.uuid4())}).encode()


class ProblemRequestHandler(WSGIRequestHandler):
    """The HTTP server's own answers (a malformed request line, an oversized one, too many
    header bytes, an HTTP version it does not speak) as RFC 9457 problems with no-store,
    like every other answer, and always as an HTTP/1.1 response with its status line."""

    def parse_request(self) -> bool:
        if not super().parse_request():
            return False
        if self.request_version == "HTTP/0.9":
            # A request line of two parts is HTTP/0.9, whose answers have no status line or
            # headers: API Gateway does not serve it, and neither does the front.
            self.send_error(HTTPStatus.BAD_REQUEST, f"Bad request syntax ({self.requestline!r})")
            return False
        return True

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        body = server_problem(code, message or HTTPStatus(code).phrase)
        self.log_error("code %d, message %s", code, message)
        # Before the request line parses, http.server takes it for HTTP/0.9 and would write
        # the body alone.
        self.request_version = "HTTP/1.1"
        self.close_connection = True
        self.send_response(code, HTTPStatus(code).phrase)
        self.send_header("Content-Type", "application/problem+json")
        self.send_header("Cache-Control", "no-store")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Connection", "close")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)


class AccessLogRequestHandler(ProblemRequestHandler):
    """`make run`'s log: one short line per request, as `GET /users?maxResults=5 200 12 ms`."""

    def handle_one_request(self) -> None:
        self._started = time.monotonic()
        super().handle_one_request()

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        elapsed_ms = (time.monotonic() - getattr(self, "_started", time.monotonic())) * 1000
        status = getattr(code, "value", code)
        print(f"{self.command or '-'} {self.path if self.command else '-'} {status} {elapsed_ms:.0f} ms", flush=True)

    def log_error(self, format: str, *args: Any) -> None:
        print(f"refused: {format % args}", flush=True)


def _query_parameters(raw_query: str) -> tuple[dict[str, str] | None, dict[str, list[str]] | None]:
    multi: dict[str, list[str]] = {}
    for pair in filter(None, raw_query.split("&")):
        name, _, value = pair.partition("=")
        multi.setdefault(unquote(name), []).append(unquote(value))
    if not multi:
        return None, None
    return {name: values[-1] for name, values in multi.items()}, multi


def rest_proxy_event(
    method: str,
    raw_path: str,
    raw_query: str,
    headers: Iterable[tuple[str, str]],
    resource: str,
    path_parameters: dict[str, str] | None,
    body: bytes,
) -> dict[str, Any]:
    header_map: dict[str, str] = {}
    multi_headers: dict[str, list[str]] = {}
    for name, value in headers:
        header_map[name] = value
        multi_headers.setdefault(name, []).append(value)
    query, multi_query = _query_parameters(raw_query)
    return {
        "resource": resource,
        "path": raw_path,
        "httpMethod": method,
        "headers": header_map,
        "multiValueHeaders": multi_headers,
        "queryStringParameters": query,
        "multiValueQueryStringParameters": multi_query,
        "pathParameters": path_parameters,
        "stageVariables": None,
        "requestContext": {
            "resourcePath": resource,
            "httpMethod": method,
            "path": f"/{STAGE}{raw_path}",
            "stage": STAGE,
            "requestId": str(uuid.uuid4()),
            "requestTimeEpoch": int(time.time() * 1000),
            "accountId": ACCOUNT_ID,
            "apiId": "local",
            "protocol": "HTTP/1.1",
            "identity": {"sourceIp": "127.0.0.1"},
        },
        "body": base64.b64encode(body).decode() if body else None,
        "isBase64Encoded": bool(body),
    }


@dataclass(frozen=True)
class CallerKey:
    """The one key pair the front accepts, as API Gateway's AWS_IAM accepts IAM's."""

    access_key: str
    secret_key: str
    region: str


# API Gateway's answer to each refusal: the template's gateway response of that type.
_GATEWAY_RESPONSE_FOR = {"missing": "MISSING_AUTHENTICATION_TOKEN"}


class LocalApi:
    """WSGI app standing in for the template's REST API. With a caller key, it refuses
    every request not signed with it (SigV4, service execute-api), as AWS_IAM does."""

    def __init__(self, local_functions: dict[str, LocalFunction], caller_key: CallerKey | None) -> None:
        self.caller_key = caller_key
        self.routes = [
            (method, path, route_pattern(path), function)
            for function in local_functions.values()
            for method, path in function.spec.routes
        ]
        # Static routes first, as API Gateway prefers them over parameterised ones.
        self.routes.sort(key=lambda route: "{" in route[1])

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        request = Request(environ)
        if self.caller_key is not None:
            try:
                verify(
                    request,
                    service="execute-api",
                    region=self.caller_key.region,
                    secret_for={self.caller_key.access_key: self.caller_key.secret_key}.get,
                )
            except SignatureError as refused:
                gateway_response = _GATEWAY_RESPONSE_FOR.get(refused.reason, "INVALID_SIGNATURE")
                return self._gateway_response(gateway_response)(environ, start_response)
        raw_path, _, raw_query = request_uri(request).partition("?")
        for method, resource, pattern, function in self.routes:
            match = pattern.match(raw_path)
            if match and request.method == method:
                path_parameters = {name: unquote(value) for name, value in match.groupdict().items()} or None
                event = rest_proxy_event(
                    method, raw_path, raw_query, request.headers.items(), resource, path_parameters, request.get_data()
                )
                return self._respond(function.invoke(event))(environ, start_response)
        return self._gateway_response("MISSING_AUTHENTICATION_TOKEN")(environ, start_response)

    @staticmethod
    def _gateway_response(response_type: str) -> Response:
        """API Gateway's own answer (no function sees the request), as the template's
        GatewayResponses configure it."""
        api = next(iter(resources_of_type("AWS::Serverless::Api").values()))
        configured = api["GatewayResponses"][response_type]
        body = configured["ResponseTemplates"]["application/json"].replace("$context.requestId", str(uuid.uuid4()))
        response = Response(body, status=configured["StatusCode"])
        response.headers.clear()
        for name, value in configured["ResponseParameters"]["Headers"].items():
            response.headers[name] = value.strip("'")
        return response

    @staticmethod
    def _respond(result: dict[str, Any]) -> Response:
        body = result.get("body") or ""
        payload = base64.b64decode(body) if result.get("isBase64Encoded") else body.encode()
        response = Response(payload, status=result["statusCode"])
        response.headers.clear()
        for name, value in (result.get("headers") or {}).items():
            response.headers[name] = value
        for name, values in (result.get("multiValueHeaders") or {}).items():
            for value in values:
                response.headers.add(name, value)
        return response


def front_server(front: LocalApi, port: int, access_log: bool = False) -> BaseWSGIServer:
    """The front on 127.0.0.1 (port 0 picks one), answering its own errors as problems;
    with access_log, one short line per request on stdout."""
    handler = AccessLogRequestHandler if access_log else ProblemRequestHandler
    return make_server(HOST, port, front, threaded=True, request_handler=handler)
