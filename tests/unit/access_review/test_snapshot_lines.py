"""users.jsonl's lines: what readers of a snapshot rely on."""

import json
from typing import Any

from finspace_users.access_review.snapshot import _as_lines


def test_each_user_is_one_line_of_compact_utf8_json_in_finspace_field_order() -> None:
    users: list[dict[str, Any]] = [
        {"userId": "uid-1", "lastName": "Ødegård", "firstName": "José", "createTime": 1714176000000},
        {"userId": "uid-2", "status": "ENABLED"},
    ]

    lines = _as_lines(users)

    assert (
        lines
        == (
            '{"userId":"uid-1","lastName":"Ødegård","firstName":"José","createTime":1714176000000}\n'
            '{"userId":"uid-2","status":"ENABLED"}\n'
        ).encode()
    )
    assert [json.loads(line) for line in lines.decode().splitlines()] == users
