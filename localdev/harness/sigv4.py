"""SigV4 for the local stack, checked as AWS checks it: the signature is recomputed with
botocore's own signer from the secret of the key that signed the request, never taken
on trust. The local API front checks callers (as API Gateway's AWS_IAM does), and the
FinSpace emulator checks the functions (as FinSpace does).

Also a `requests` auth that signs, for the tests and tools that call the local API.
"""

import hmac
import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import requests
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from werkzeug.wrappers import Request

AUTHORIZATION_PATTERN = re.compile(
    r"^AWS4-HMAC-SHA256 Credential=(?P<key>[^/,\s]+)/(?P<date>\d{8})/(?P<region>[^/,\s]+)/(?P<service>[^/,\s]+)"
    r"/aws4_request, ?SignedHeaders=(?P<signed>[a-z0-9;-]+), ?Signature=(?P<signature>[0-9a-f]{64})$"
)
# AWS refuses a request whose X-Amz-Date is more than 5 minutes from its own clock.
ALLOWED_CLOCK_SKEW = timedelta(minutes=5)


class SignatureError(Exception):
    """Why a request's signature was refused: `reason` is one of missing, malformed,
    wrong-scope, stale, unknown-key and mismatch."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason, self.message = reason, message


def request_uri(request: Request) -> str:
    """The path and query as the client sent them, percent-encoding and all."""
    uri: str = request.environ.get("RAW_URI") or request.environ.get("REQUEST_URI") or request.full_path
    return uri


def verify(
    request: Request,
    *,
    service: str,
    region: str,
    secret_for: Callable[[str], str | None],
) -> str:
    """The access key that signed this request, or SignatureError."""
    headers = request.headers
    header = headers.get("Authorization")
    if not header:
        raise SignatureError("missing", "Missing Authentication Token")
    match = AUTHORIZATION_PATTERN.match(header)
    amz_date = headers.get("X-Amz-Date", "")
    try:
        signed_at = datetime.strptime(amz_date, "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
    except ValueError:
        signed_at = None
    if match is None or signed_at is None or match["date"] != amz_date[:8]:
        raise SignatureError(
            "malformed", "Authorization header requires a SigV4 Credential, SignedHeaders, Signature and X-Amz-Date"
        )
    if (match["service"], match["region"]) != (service, region):
        raise SignatureError("wrong-scope", f"Credential should be scoped to region '{region}' and service '{service}'")
    if abs(datetime.now(UTC) - signed_at) > ALLOWED_CLOCK_SKEW:
        raise SignatureError("stale", "Signature expired: X-Amz-Date is more than 5 minutes from the server's time")
    secret = secret_for(match["key"])
    if secret is None:
        raise SignatureError("unknown-key", "The security token included in the request is invalid")
    signed_names = match["signed"].split(";")
    if "host" not in signed_names or any(name not in headers for name in signed_names):
        raise SignatureError("malformed", "SignedHeaders must include host, and every signed header must be sent")
    signed = AWSRequest(
        method=request.method,
        url=f"{request.scheme}://{request.host}{request_uri(request)}",
        data=request.get_data(),
        headers={name: headers[name] for name in signed_names},
    )
    signed.context["timestamp"] = amz_date
    signer = SigV4Auth(Credentials(match["key"], secret), service, region)
    expected = signer.signature(signer.string_to_sign(signed, signer.canonical_request(signed)), signed)
    if not hmac.compare_digest(expected, match["signature"]):
        raise SignatureError(
            "mismatch", "The request signature we calculated does not match the signature you provided"
        )
    return match["key"]


class SigV4Signer(requests.auth.AuthBase):
    """Signs each request for `service` in `region` with botocore's SigV4Auth."""

    def __init__(self, access_key: str, secret_key: str, region: str, service: str = "execute-api") -> None:
        self.credentials = Credentials(access_key, secret_key)
        self.region, self.service = region, service

    def __call__(self, prepared: requests.PreparedRequest) -> requests.PreparedRequest:
        body = prepared.body.encode() if isinstance(prepared.body, str) else (prepared.body or b"")
        request = AWSRequest(method=prepared.method, url=prepared.url, data=body)
        SigV4Auth(self.credentials, self.service, self.region).add_auth(request)
        prepared.headers.update({name: request.headers[name] for name in ("Authorization", "X-Amz-Date")})
        return prepared
