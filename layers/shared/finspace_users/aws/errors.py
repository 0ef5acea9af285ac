"""What an AWS service said when a call failed."""

from botocore.exceptions import ClientError


def error_code(error: BaseException) -> str | None:
    """The service's error code of a ClientError ("ThrottlingException", "NoSuchKey",
    ...); None for any other exception, or for a ClientError whose answer names none."""
    if not isinstance(error, ClientError):
        return None
    code = error.response.get("Error", {}).get("Code")
    return str(code) if code else None
