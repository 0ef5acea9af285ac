"""GET /users pages recorded with Powertools idempotency, keyed on maxResults and
nextToken alone.

Whole-event keys would change on every API Gateway retry (headers and requestId
differ), so the key is built from the two parameters that decide the page."""

import json
import os
import time
from collections.abc import Callable
from functools import cache
from typing import Any, Literal, cast

from aws_lambda_powertools.utilities.typing import LambdaContext

from finspace_users.aws.finspace import list_users_page
from finspace_users.aws.observability import logger
from finspace_users.aws.record_store import STORE_CONFIG, table_store

# hit: replayed from the store; miss: fetched from FinSpace and recorded; waited: replayed
# once the request that was fetching it had recorded it; bypass: fetched from FinSpace
# without recording, after waiting in vain or because the page's record is not one this
# cache wrote; off: no cache, or the store failed.
CacheStatus = Literal["hit", "miss", "waited", "bypass", "off"]
# A request whose page another request is fetching reads that record after each of these
# waits, then fetches the page itself. Backing off keeps a request to two reads.
IN_PROGRESS_POLL_DELAYS = (0.5, 1.0)
IN_PROGRESS_WAIT_SECONDS = sum(IN_PROGRESS_POLL_DELAYS)
# Worst case, each store call taking its 1.5 s (idempotency.STORE_CONFIG) and
# FinSpace its 15 s (finspace.CLIENT_CONFIG, 3 attempts), FinSpace asked at most once:
# - the writer: put 1.5 + FinSpace 15 + save or delete 1.5 = 18 s, 2 store calls;
# - a waiter: put 1.5 + 0.5 + read 1.5 + 1.0 + read 1.5 + FinSpace 15 = 21 s, 3 calls;
# - Powertools repeats a put when the record it failed on lapsed during that put; the
#   repeat makes this request the writer (1.5 + 18 = 19.5 s, 3 calls) or meets a new
#   writer's record, too young to lapse (with a cache window over 2 s), and waits
#   (1.5 + 21 = 22.5 s, 4 calls).
# So at most 4 store calls and 22.5 s, inside the 25 s function timeout.
# The writer's worst case: how long its record in progress may lock the page.
WRITER_SECONDS = 18
# Clocks of Lambda hosts agree to well within this; a record expiring later than the
# cache window plus this was not written by this cache (or by a deployment with a longer
# window: it is ignored until it expires).
CLOCK_SKEW_SECONDS = 5
PAGE_RECORD_PREFIX = "users-page"
PageFetcher = Callable[..., dict[str, Any]]


class _UntrustedRecordError(Exception):
    """The page's record is not one this cache wrote: it is neither served nor waited for."""


class _ReplayedPage(dict[str, Any]):
    """A page that came back from the idempotency store rather than from FinSpace."""


def _mark_replayed(response: Any, idempotent_data: Any) -> Any:
    return _ReplayedPage(response)


class _FinSpaceOnce:
    """This request's FinSpace call, made at most once: when the store fails after it (a
    late save or delete), the request answers with its outcome rather than asking again,
    which would spend FinSpace's whole budget twice."""

    def __init__(self, max_results: int, next_token: str | None) -> None:
        self._arguments = (max_results, next_token)
        self._outcome: dict[str, Any] | Exception | None = None

    def __call__(self) -> dict[str, Any]:
        if self._outcome is None:
            try:
                self._outcome = list_users_page(*self._arguments)
            except Exception as error:
                self._outcome = error
        if isinstance(self._outcome, Exception):
            raise self._outcome
        return self._outcome


class _WriterClock:
    """The Lambda context as Powertools reads it to time out a record in progress: no
    later than the writer must have finished. ListUsersFunction's 900 s timeout is the
    snapshot's, so a record whose writer died or never heard back from its put would
    otherwise hold its page until the record expires."""

    def __init__(self, context: LambdaContext | None) -> None:
        self._context = context

    def get_remaining_time_in_millis(self) -> int:
        writer_millis = WRITER_SECONDS * 1000
        if self._context is None:
            return writer_millis
        return min(self._context.get_remaining_time_in_millis(), writer_millis)


def _is_users_page(response_data: Any) -> bool:
    """The shape list_users_page returns: nothing else, so nothing else is served."""
    try:
        data = json.loads(response_data)
    except (TypeError, ValueError):
        return False
    return (
        isinstance(data, dict)
        and set(data) <= {"users", "nextToken"}
        and isinstance(data.get("users"), list)
        and all(isinstance(user, dict) and isinstance(user.get("userId"), str) for user in data["users"])
        and isinstance(data.get("nextToken", ""), str)
    )


def _distrust(record: Any, window_seconds: int) -> str | None:
    """Why this cache cannot have written the record, if it cannot."""
    if record.expiry_timestamp > time.time() + window_seconds + CLOCK_SKEW_SECONDS:
        return "expiration beyond the cache window"
    if record.status == "COMPLETED" and not _is_users_page(record.response_data):
        return "data is not a ListUsers page"
    return None


def _page_store() -> Any:
    from aws_lambda_powertools.utilities.idempotency import DynamoDBPersistenceLayer

    class PageStore(DynamoDBPersistenceLayer):
        # Every item Powertools reads becomes a DataRecord here: the one a failed
        # conditional put returns (ReturnValuesOnConditionCheckFailure) and a get's.
        def _item_to_data_record(self, item: dict[str, Any]) -> Any:
            try:
                record = super()._item_to_data_record(item)
                reason = _distrust(record, self.expires_after_seconds)
            except Exception:  # an attribute missing or of another type, or an unknown status
                reason = "not an item Powertools wrote"
            if reason is None:
                return record
            # The key is a hash; the item's data stays out of the log.
            logger.warning(
                "Ignoring a page-cache record this cache did not write",
                extra={"reason": reason, "idempotencyKey": item[self.key_attr]["S"]},
            )
            raise _UntrustedRecordError(reason)

    return table_store(PageStore, STORE_CONFIG)


@cache
def _page_fetcher() -> tuple[PageFetcher, Any, Any] | None:
    seconds = int(os.environ.get("PAGE_CACHE_SECONDS", "60"))
    if seconds <= 0:
        return None
    from aws_lambda_powertools.utilities.idempotency import IdempotencyConfig, idempotent_function

    config = IdempotencyConfig(expires_after_seconds=seconds, response_hook=_mark_replayed)
    store = _page_store()

    # page_request is the key; finspace, the call to record.
    # A fixed prefix, not Powertools' default (the module path, which a move changes).
    @idempotent_function(
        data_keyword_argument="page_request", config=config, persistence_store=store, key_prefix=PAGE_RECORD_PREFIX
    )
    def fetch_page(page_request: dict[str, Any], finspace: _FinSpaceOnce) -> dict[str, Any]:
        return finspace()

    return fetch_page, config, store


def cached_list_users_page(
    max_results: int, next_token: str | None, context: LambdaContext | None
) -> tuple[dict[str, Any], CacheStatus]:
    """The page, and how the cache served it."""
    finspace = _FinSpaceOnce(max_results, next_token)
    fetcher = _page_fetcher()
    if fetcher is None:
        return finspace(), "off"
    fetch_page, config, store = fetcher
    config.register_lambda_context(cast(LambdaContext, _WriterClock(context)))
    from aws_lambda_powertools.utilities.idempotency.exceptions import (
        IdempotencyAlreadyInProgressError,
        IdempotencyInconsistentStateError,
        IdempotencyPersistenceLayerError,
    )

    page_request = {"maxResults": max_results, "nextToken": next_token}
    # The cache spares FinSpace; it must never make the directory less available than
    # FinSpace itself, so a request never fails because of the store or another request.
    try:
        page = fetch_page(page_request=page_request, finspace=finspace)
    except IdempotencyAlreadyInProgressError:
        return _wait_for_the_writer(store, page_request, finspace)
    except (IdempotencyPersistenceLayerError, IdempotencyInconsistentStateError) as error:
        if isinstance(error.__cause__, _UntrustedRecordError):
            return finspace(), "bypass"  # the store has logged why
        logger.warning("Page cache unavailable; serving from FinSpace", exc_info=True)
        return finspace(), "off"
    return page, "hit" if isinstance(page, _ReplayedPage) else "miss"


def _wait_for_the_writer(
    store: Any, page_request: dict[str, Any], finspace: _FinSpaceOnce
) -> tuple[dict[str, Any], CacheStatus]:
    """Reads, not puts: a waiter never takes the page over, so the record keeps a single
    writer and the waiter a fixed number of store calls."""
    from aws_lambda_powertools.utilities.idempotency.exceptions import IdempotencyItemNotFoundError

    for delay in IN_PROGRESS_POLL_DELAYS:
        time.sleep(delay)
        try:
            record = store.get_record(data=page_request)
        except (IdempotencyItemNotFoundError, _UntrustedRecordError):
            break  # the writer failed and deleted it, or someone else wrote it
        except Exception:
            logger.warning("Page cache unavailable; serving from FinSpace", exc_info=True)
            break
        if record.status == "COMPLETED":
            return record.response_json_as_dict(), "waited"
        if record.status != "INPROGRESS":
            break  # expired
    return finspace(), "bypass"


def reset_page_cache() -> None:
    """Forget the store, so the next call builds one from the current environment."""
    _page_fetcher.cache_clear()
