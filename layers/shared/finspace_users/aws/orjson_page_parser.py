"""The snapshot's ListUsers pages, parsed by orjson instead of botocore's parser."""

from typing import Any

import orjson

# botocore's event for a ListUsers response about to be parsed.
BEFORE_PARSING_A_PAGE = "before-parse.finspace-data.ListUsers"


def parse_users_page_with_orjson(
    response_dict: dict[str, Any], customized_response_dict: dict[str, Any], **_: Any
) -> None:
    """botocore's parser walks every field of every user through the model: 0.8-0.9 ms a
    page of 100 users, where this takes 0.1 ms (make bench, "page parsed"). Over the
    snapshot's 1,000 pages that is more than its comparison with the previous snapshot
    costs. A page is plain JSON (strings, epoch-millisecond integers, no blobs or
    timestamps to convert), so the users carry the same fields and values as from
    botocore, in the order FinSpace sent them rather than the model's. The parsed page
    goes in through botocore's own customized_response_dict, and the body left to
    botocore's parser is empty. Errors, a body orjson refuses, and any page with a null
    in it (botocore drops null fields; a scan of the bytes is the cheap way to be
    sure) stay botocore's to parse, retry and raise."""
    if response_dict["status_code"] != 200 or b"null" in response_dict["body"]:
        return
    try:
        page = orjson.loads(response_dict["body"])
    except orjson.JSONDecodeError:
        return
    if isinstance(page, dict):
        customized_response_dict.update(page)
        response_dict["body"] = b"{}"
