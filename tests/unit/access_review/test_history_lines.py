"""The previous users.jsonl is split into lines however its chunks fall, in time linear in
its size, and no line longer than MAX_LINE_BYTES is held."""

import random
from itertools import pairwise

import pytest

from finspace_users.access_review.changes import MAX_LINE_BYTES, UnreadableHistoryError, _split_lines


def chunks_of(body: bytes, rng: random.Random, cuts: int) -> list[bytes]:
    edges = [0, *sorted(rng.sample(range(1, len(body)), cuts)), len(body)]
    return [body[start:end] for start, end in pairwise(edges)]


@pytest.mark.parametrize("seed", range(10))
def test_lines_are_the_same_however_the_chunks_fall(seed: int) -> None:
    rng = random.Random(seed)
    body = b"\n".join(b"u" * rng.randrange(0, 400) for _ in range(300)) + rng.choice([b"", b"\n"])
    expected = body.split(b"\n")
    if expected[-1] == b"":  # a final newline ends the last line; it starts none
        expected.pop()

    assert list(_split_lines(iter(chunks_of(body, rng, cuts=40)))) == expected


@pytest.mark.parametrize("tail", [b"", b"\n", b"\nnext"], ids=["last-line", "ended", "followed"])
def test_a_line_at_the_cap_is_read_and_one_byte_more_is_refused(tail: bytes) -> None:
    at_cap = b"a\n" + b"u" * MAX_LINE_BYTES + tail
    rng = random.Random(7)

    assert list(_split_lines(iter(chunks_of(at_cap, rng, cuts=5))))[1] == b"u" * MAX_LINE_BYTES
    with pytest.raises(UnreadableHistoryError, match=f"users.jsonl line 2 is longer than {MAX_LINE_BYTES} bytes"):
        list(_split_lines(iter(chunks_of(b"a\n" + b"u" * (MAX_LINE_BYTES + 1) + tail, rng, cuts=5))))
