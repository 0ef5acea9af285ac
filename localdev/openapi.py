"""`make openapi`: the OpenAPI 3.1 document of the whole API, generated from the two
functions' Powertools resolvers and merged with Powertools' OpenAPIMerge.

    python -m localdev.openapi            write openapi.json
    python -m localdev.openapi --check    exit 1 if openapi.json is stale
"""

import json
import os
import sys
from typing import Any

from aws_lambda_powertools.event_handler.openapi.merge import OpenAPIMerge
from aws_lambda_powertools.event_handler.openapi.models import APIKey, APIKeyIn, Server

from localdev.harness.commands import command_parser
from localdev.harness.defaults import ACCESS_KEY_ID, API_PORT, HOST, PROCESS_ENVIRONMENT, PROJECT_ROOT, REGION
from localdev.harness.env_vars import load_env_vars
from localdev.harness.lambda_runtime import load_functions

OPENAPI_PATH = PROJECT_ROOT / "openapi.json"
DESCRIPTION = (
    "The Amazon FinSpace user directory over HTTP. Responses carry FinSpace's own field names "
    "and types; errors are RFC 9457 problems (application/problem+json). Deployed, every call "
    "is signed with AWS SigV4 and needs execute-api:Invoke."
)


def generate() -> dict[str, Any]:
    os.environ.update(PROCESS_ENVIRONMENT)
    merge = OpenAPIMerge(
        title="finspace-users",
        version="1.0.0",
        description=DESCRIPTION,
        servers=[Server(url=f"http://{HOST}:{API_PORT}", description="make run")],
        security_schemes={
            "sigv4": APIKey(
                name="Authorization",
                in_=APIKeyIn.header,
                description=(
                    "AWS Signature Version 4 (API Gateway's AWS_IAM authorization): signed for service "
                    f"execute-api in the stack's region ({REGION} for make run) with a key the caller "
                    f"holds (make run: its shell's AWS_ACCESS_KEY_ID, else {ACCESS_KEY_ID}), and an X-Amz-Date "
                    "within 5 minutes. Anything else gets a 403 forbidden problem."
                ),
            )
        },
        security=[{"sigv4": []}],
        on_conflict="error",
    )
    for function in load_functions(load_env_vars()).values():
        merge.add_schema(function.module.app.get_openapi_schema())
    # Through Powertools' OpenAPI model: validated, and its objects turned into JSON.
    schema: dict[str, Any] = json.loads(merge.get_openapi_json_schema())
    # API Gateway's own marker for a SigV4 scheme, as its OpenAPI export writes it.
    schema["components"]["securitySchemes"]["sigv4"]["x-amazon-apigateway-authtype"] = "awsSigv4"
    return _without_powertools_422(schema)


def _without_powertools_422(schema: dict[str, Any]) -> dict[str, Any]:
    """Powertools documents its default 422 for validation errors; this API answers
    them with 400 problems (finspace_users.http.api), so the 422 entries would be false."""
    for path in schema["paths"].values():
        for operation in path.values():
            operation["responses"].pop("422", None)
    components = schema["components"]["schemas"]
    for unused in ("HTTPValidationError", "ValidationError", "ResponseValidationError"):
        components.pop(unused, None)
    return schema


def render(schema: dict[str, Any]) -> str:
    return json.dumps(schema, indent=2, sort_keys=True) + "\n"


def main() -> None:
    parser = command_parser("localdev.openapi", __doc__)
    parser.add_argument("--check", action="store_true", help="fail if openapi.json differs from the handlers")
    args = parser.parse_args()
    rendered = render(generate())
    if args.check:
        if not OPENAPI_PATH.exists() or OPENAPI_PATH.read_text() != rendered:
            print("openapi.json is stale: run `make openapi` and commit it", file=sys.stderr)
            raise SystemExit(1)
        print("openapi.json is up to date")
        return
    OPENAPI_PATH.write_text(rendered)
    print(f"wrote {OPENAPI_PATH.relative_to(PROJECT_ROOT)}")


if __name__ == "__main__":
    main()
