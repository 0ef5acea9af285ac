"""One Logger, Metrics and Tracer per container, configured by POWERTOOLS_* variables."""

import functools
import os
from collections.abc import Callable
from functools import cache
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools import Logger, Metrics

if TYPE_CHECKING:
    from aws_lambda_powertools import Tracer

logger = Logger()
metrics = Metrics()

Handler = Callable[[Any, Any], Any]


def tracing_enabled() -> bool:
    """As Powertools decides: on in Lambda unless POWERTOOLS_TRACE_DISABLED is true."""
    disabled = os.environ.get("POWERTOOLS_TRACE_DISABLED", "false").lower() == "true"
    return not disabled and "AWS_LAMBDA_FUNCTION_NAME" in os.environ


@cache
def tracer() -> "Tracer | None":
    # Importing the X-Ray SDK costs about 120 ms of cold start: only pay it when on.
    if not tracing_enabled():
        return None
    from aws_lambda_powertools import Tracer

    return Tracer()


def traced(handler: Handler) -> Handler:
    """Tracer.capture_lambda_handler with response capture off (responses hold PII)."""

    @functools.wraps(handler)
    def run(event: Any, context: Any) -> Any:
        active = tracer()
        if active is None:
            return handler(event, context)
        return active.capture_lambda_handler(handler, capture_response=False)(event, context)

    return run
