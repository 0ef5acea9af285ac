"""A FinSpace Data API emulator that boto3 1.43.116 cannot tell from the real thing
for GetUser, ListUsers and GetProgrammaticAccessCredentials.

Same routes, status codes, rest-json error shapes (``x-amzn-ErrorType`` header plus a
JSON ``message``) and nextToken pagination as the service. Every request's SigV4
signature is recomputed (localdev/harness/sigv4.py) from the secret of the key that signed it:
an IAM key it knows (``role_keys``, moto's ``testing``/``testing`` by default) or a key it
issued. A key it issued that has expired gets ``ExpiredTokenException``; with
``enforce_issued_credentials`` data calls must be signed with a live issued key.

Runs in-process (``with FinSpaceEmulator().serving() as url``) or as a server
(``python -m localdev.emulator``, localdev/emulator.py). Fault knobs can be changed at run time,
in-process or with ``POST /_emulator/faults``; ``GET /_emulator/calls`` counts calls.
The directory can change between snapshots: ``POST /_emulator/users`` ``{"count": n}``
adds users, ``PATCH /_emulator/users/{userId}`` sets fields (null removes one) and
``DELETE /_emulator/users/{userId}`` removes a user.
"""

import base64
import hashlib
import hmac
import json
import random
import re
import secrets
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from typing import Any

from werkzeug.routing import Map, Rule
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from localdev.harness.defaults import ACCESS_KEY_ID, HOST, REGION, SECRET_ACCESS_KEY
from localdev.harness.directory import SeededDirectory
from localdev.harness.sigv4 import SignatureError, verify

USER_ID_PATTERN = re.compile(r".*\S.*")
# What AWS's rest-json services answer for each refused signature (all 403).
SIGNATURE_ERROR_CODES = {
    "missing": "MissingAuthenticationTokenException",
    "malformed": "IncompleteSignatureException",
    "wrong-scope": "InvalidSignatureException",
    "stale": "InvalidSignatureException",
    "unknown-key": "UnrecognizedClientException",
    "mismatch": "InvalidSignatureException",
}
# Real tokens are opaque base64; these always hold "+", "/" and "=" so that callers
# who forget to percent-encode them find out locally.
_TOKEN_PREFIX = b"\xfb\xff\xbf"


@dataclass
class Faults:
    throttle_rate: float = 0.0
    error_rate: float = 0.0
    latency_seconds: float = 0.0
    # The next this-many calls fail with a 500, then calls succeed again.
    transient_failures: int = 0
    # Every ListUsers call for the page at this offset fails with this modeled error.
    fail_list_at_offset: int | None = None
    fail_list_with: str = "InternalServerException"


@dataclass
class IssuedCredentials:
    secret_access_key: str
    session_token: str
    expires_at: float


class EmulatedError(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


MODELED_ERROR_STATUS = {
    "ValidationException": 400,
    "AccessDeniedException": 403,
    "ResourceNotFoundException": 404,
    "ThrottlingException": 429,
    "InternalServerException": 500,
}


def _validation(message: str) -> EmulatedError:
    return EmulatedError(400, "ValidationException", message)


@dataclass
class FinSpaceEmulator:
    user_count: int = 50
    seed: int = 42
    credential_lifetime_seconds: float | None = None
    enforce_issued_credentials: bool = False
    region: str = REGION
    # The IAM keys (access key: secret) FinSpace accepts: the function role's, locally.
    role_keys: dict[str, str] = field(default_factory=lambda: {ACCESS_KEY_ID: SECRET_ACCESS_KEY})
    faults: Faults = field(default_factory=Faults)
    calls: Counter[str] = field(default_factory=Counter)

    def __post_init__(self) -> None:
        self.directory = SeededDirectory(self.user_count, self.seed)
        self.issued: dict[str, IssuedCredentials] = {}
        self.data_calls_with_expired_keys = 0
        self._token_key = hashlib.sha256(f"tokens:{self.seed}".encode()).digest()
        self._fault_rng = random.Random(self.seed)
        self._lock = threading.Lock()
        self._routes = Map(
            [
                Rule("/user/<path:user_id>", endpoint="GetUser", methods=["GET"]),
                Rule("/user", endpoint="ListUsers", methods=["GET"]),
                Rule("/credentials/programmatic", endpoint="GetProgrammaticAccessCredentials", methods=["GET"]),
                Rule("/_emulator/calls", endpoint="admin_calls", methods=["GET"]),
                Rule("/_emulator/directory", endpoint="admin_directory", methods=["GET"]),
                Rule("/_emulator/faults", endpoint="admin_faults", methods=["POST"]),
                Rule("/_emulator/users", endpoint="admin_add_users", methods=["POST"]),
                Rule("/_emulator/users/<path:user_id>", endpoint="admin_edit_user", methods=["PATCH", "DELETE"]),
            ],
            merge_slashes=False,
        )

    def inject(self, **knobs: Any) -> None:
        """Replace the fault knobs and restart their random sequence, so that a run of
        requests meets the same faults every time."""
        with self._lock:
            self.faults = Faults(**knobs)
            self._fault_rng.seed(self.seed)

    # -- changing the directory, as an administrator would between two snapshots -----

    def add_users(self, count: int) -> list[str]:
        with self._lock:
            return self.directory.add_users(count)

    def update_user(self, user_id: str, **fields: Any) -> dict[str, Any]:
        """Set fields of a user; None removes a field."""
        with self._lock:
            return self.directory.update_user(user_id, fields, modified_ms=int(time.time() * 1000))

    def remove_user(self, user_id: str) -> None:
        with self._lock:
            self.directory.remove_user(user_id)

    # -- serving -------------------------------------------------------------------

    @contextmanager
    def serving(self, host: str = HOST, port: int = 0) -> Iterator[str]:
        """Serve on a background thread; yields the endpoint URL."""
        server = make_server(host, port, self, threaded=True)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            yield f"http://{host}:{server.server_port}"
        finally:
            server.shutdown()
            thread.join()

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        return self._dispatch(Request(environ))(environ, start_response)

    def _dispatch(self, request: Request) -> Response:
        adapter = self._routes.bind_to_environ(request.environ)
        try:
            endpoint, arguments = adapter.match()
        except Exception:
            return _error_response(EmulatedError(404, "UnknownOperationException", "Unknown operation"))
        if endpoint == "admin_calls":
            return _json_response(200, dict(self.calls))
        if endpoint == "admin_directory":
            return _json_response(200, {"userCount": len(self.directory), "seed": self.directory.seed})
        if endpoint == "admin_faults":
            self.inject(**{**asdict(self.faults), **(request.get_json(silent=True) or {})})
            return _json_response(200, asdict(self.faults))
        if endpoint in ("admin_add_users", "admin_edit_user"):
            return self._edit_directory(request, endpoint, arguments)
        with self._lock:
            self.calls[endpoint] += 1
        try:
            access_key = self._authenticate(request)
            self._inject_faults()
            if endpoint == "GetProgrammaticAccessCredentials":
                return _json_response(200, self._issue_credentials(request))
            self._authorize_data_call(access_key)
            if endpoint == "GetUser":
                return _json_response(200, self._get_user(arguments["user_id"]))
            return _json_response(200, self._list_users(request))
        except EmulatedError as error:
            return _error_response(error)

    def _edit_directory(self, request: Request, endpoint: str, arguments: Mapping[str, Any]) -> Response:
        body = request.get_json(silent=True) or {}
        try:
            if not isinstance(body, dict):
                raise TypeError("the body must be a JSON object")
            if endpoint == "admin_add_users":
                return _json_response(200, {"added": self.add_users(int(body.get("count", 1)))})
            if request.method == "DELETE":
                self.remove_user(arguments["user_id"])
                return Response(status=204)
            return _json_response(200, self.update_user(arguments["user_id"], **body))
        except LookupError:
            return _error_response(EmulatedError(404, "ResourceNotFoundException", "User not found"))
        except (TypeError, ValueError) as refused:
            return _error_response(_validation(str(refused)))

    # -- checks and faults ---------------------------------------------------------

    def _authenticate(self, request: Request) -> str:
        try:
            access_key = verify(request, service="finspace-api", region=self.region, secret_for=self._secret_of)
        except SignatureError as refused:
            raise EmulatedError(403, SIGNATURE_ERROR_CODES[refused.reason], refused.message) from None
        issued = self.issued.get(access_key)
        if issued is not None and request.headers.get("X-Amz-Security-Token") != issued.session_token:
            raise EmulatedError(
                403, "UnrecognizedClientException", "The security token included in the request is invalid"
            )
        return access_key

    def _secret_of(self, access_key: str) -> str | None:
        issued = self.issued.get(access_key)
        return issued.secret_access_key if issued is not None else self.role_keys.get(access_key)

    def _authorize_data_call(self, access_key: str) -> None:
        issued = self.issued.get(access_key)
        if issued is not None and issued.expires_at <= time.time():
            self.data_calls_with_expired_keys += 1
            raise EmulatedError(403, "ExpiredTokenException", "The security token included in the request is expired")
        if self.enforce_issued_credentials and issued is None:
            raise EmulatedError(403, "AccessDeniedException", "User is not authorized to perform this action")

    def _inject_faults(self) -> None:
        with self._lock:
            throttle = self._fault_rng.random() < self.faults.throttle_rate
            fail = self._fault_rng.random() < self.faults.error_rate or self.faults.transient_failures > 0
            self.faults.transient_failures = max(self.faults.transient_failures - 1, 0)
        if self.faults.latency_seconds:
            time.sleep(self.faults.latency_seconds)
        if throttle:
            raise EmulatedError(429, "ThrottlingException", "Rate exceeded")
        if fail:
            raise EmulatedError(500, "InternalServerException", "Internal server error")

    # -- operations ----------------------------------------------------------------

    def _get_user(self, user_id: str) -> dict[str, Any]:
        if not 1 <= len(user_id) <= 26 or not USER_ID_PATTERN.fullmatch(user_id):
            raise _validation("1 validation error detected: Value at 'userId' failed to satisfy constraint")
        user = self.directory.find(user_id)
        if user is None:
            raise EmulatedError(404, "ResourceNotFoundException", "User not found")
        return user

    def _list_users(self, request: Request) -> dict[str, Any]:
        max_results = _int_param(request, "maxResults", low=1, high=100)
        token = request.args.get("nextToken")
        offset = 0 if token is None else self._decode_token(token)
        if offset == self.faults.fail_list_at_offset:
            code = self.faults.fail_list_with
            raise EmulatedError(MODELED_ERROR_STATUS[code], code, "Injected failure")
        with self._lock:
            users, next_offset = self.directory.page(offset, max_results)
        body: dict[str, Any] = {"users": users}
        if next_offset is not None:
            body["nextToken"] = self._encode_token(next_offset)
        return body

    def _issue_credentials(self, request: Request) -> dict[str, Any]:
        environment_id = request.args.get("environmentId", "")
        if not 1 <= len(environment_id) <= 26:
            raise _validation("environmentId is required")
        minutes = _int_param(request, "durationInMinutes", low=1, high=60, default=60)
        lifetime = self.credential_lifetime_seconds if self.credential_lifetime_seconds is not None else minutes * 60
        access_key = "ASIA" + secrets.token_hex(8).upper()
        issued = IssuedCredentials(secrets.token_urlsafe(30), secrets.token_urlsafe(60), time.time() + lifetime)
        self.issued[access_key] = issued
        return {
            "credentials": {
                "accessKeyId": access_key,
                "secretAccessKey": issued.secret_access_key,
                "sessionToken": issued.session_token,
            },
            "durationInMinutes": minutes,
        }

    def _encode_token(self, offset: int) -> str:
        raw = offset.to_bytes(4, "big")
        signature = hmac.new(self._token_key, raw, hashlib.sha256).digest()[:6]
        return base64.b64encode(_TOKEN_PREFIX + raw + signature).decode()

    def _decode_token(self, token: str) -> int:
        try:
            raw = base64.b64decode(token, validate=True)
        except ValueError:
            raise _validation("Invalid nextToken") from None
        body, signature = raw[len(_TOKEN_PREFIX) : -6], raw[-6:]
        expected = hmac.new(self._token_key, body, hashlib.sha256).digest()[:6]
        if not raw.startswith(_TOKEN_PREFIX) or len(body) != 4 or not hmac.compare_digest(signature, expected):
            raise _validation("Invalid nextToken")
        return int.from_bytes(body, "big")


def _int_param(request: Request, name: str, *, low: int, high: int, default: int | None = None) -> int:
    text = request.args.get(name)
    if text is None:
        if default is None:
            raise _validation(f"{name} is required")
        return default
    try:
        value = int(text)
    except ValueError:
        raise _validation(f"{name} must be an integer") from None
    if not low <= value <= high:
        raise _validation(f"{name} must be between {low} and {high}")
    return value


def _json_response(status: int, body: Any) -> Response:
    return Response(
        json.dumps(body),
        status=status,
        content_type="application/json",
        headers={"x-amzn-RequestId": str(uuid.uuid4())},
    )


def _error_response(error: EmulatedError) -> Response:
    response = _json_response(error.status, {"message": error.message})
    response.headers["x-amzn-ErrorType"] = error.code
    return response
