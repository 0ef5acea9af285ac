"""GET /users pages recorded with Powertools idempotency, keyed on maxResults and
nextToken alone.

Whole-event keys would change on every API Gateway retry (headers and requestId
differ), so the key is built from the two parameters that decide the page."""

import os
import time
from collections.abc import Callable
from functools import cache
from typing import Any, Literal

from aws_lambda_powertools.utilities.typing import LambdaContext

from finspace_users.finspace import list_users_page
from finspace_users.idempotency import idempotency_store
from finspace_users.observability import logger

# hit: replayed from the store; miss: fetched from FinSpace and recorded; waited: replayed
# once the request that was fetching it had recorded it; bypass: fetched from FinSpace
# without recording, after waiting in vain; off: no cache.
CacheStatus = Literal["hit", "miss", "waited", "bypass", "off"]
# A request whose page another request is fetching waits this long for that record
# before fetching the page itself. Its first store call, this wait, a last store call
# that overruns it (4 s each at worst, idempotency.STORE_CONFIG) and a full FinSpace call
# (15 s) end within 24.5 s, inside the 25 s function timeout.
IN_PROGRESS_WAIT_SECONDS = 1.5
IN_PROGRESS_POLL_SECONDS = 0.05
PageFetcher = Callable[..., dict[str, Any]]


class _ReplayedPage(dict[str, Any]):
    """A page that came back from the idempotency store rather than from FinSpace."""


def _mark_replayed(response: Any, idempotent_data: Any) -> Any:
    return _ReplayedPage(response)


@cache
def _page_fetcher() -> tuple[PageFetcher, Any] | None:
    seconds = int(os.environ.get("PAGE_CACHE_SECONDS", "60"))
    if seconds <= 0:
        return None
    from aws_lambda_powertools.utilities.idempotency import IdempotencyConfig, idempotent_function

    config = IdempotencyConfig(expires_after_seconds=seconds, response_hook=_mark_replayed)

    @idempotent_function(data_keyword_argument="page_request", config=config, persistence_store=idempotency_store())
    def fetch_page(page_request: dict[str, Any]) -> dict[str, Any]:
        return list_users_page(page_request["maxResults"], page_request["nextToken"])

    return fetch_page, config


def cached_list_users_page(
    max_results: int, next_token: str | None, context: LambdaContext | None
) -> tuple[dict[str, Any], CacheStatus]:
    """The page, and whether it was replayed from the store ("hit") or fetched ("miss")."""
    fetcher = _page_fetcher()
    if fetcher is None:
        return list_users_page(max_results, next_token), "off"
    fetch_page, config = fetcher
    if context is not None:
        # Lets an in-progress record lapse when this invocation would have timed out.
        config.register_lambda_context(context)
    from aws_lambda_powertools.utilities.idempotency.exceptions import (
        IdempotencyAlreadyInProgressError,
        IdempotencyPersistenceLayerError,
    )

    # The cache spares FinSpace; it must never make the directory less available than
    # FinSpace itself, so a request never fails because another one is fetching its page.
    deadline = time.monotonic() + IN_PROGRESS_WAIT_SECONDS
    waited = False
    while True:
        try:
            page = fetch_page(page_request={"maxResults": max_results, "nextToken": next_token})
        except IdempotencyAlreadyInProgressError:
            if time.monotonic() >= deadline:
                return list_users_page(max_results, next_token), "bypass"
            waited = True
            time.sleep(IN_PROGRESS_POLL_SECONDS)
            continue
        except IdempotencyPersistenceLayerError:
            # The cache is an optimisation: a broken table must not break the directory.
            logger.warning("Page cache unavailable; serving from FinSpace", exc_info=True)
            return list_users_page(max_results, next_token), "off"
        if not isinstance(page, _ReplayedPage):
            return page, "miss"
        return page, "waited" if waited else "hit"


def reset_page_cache() -> None:
    """Forget the store, so the next call builds one from the current environment."""
    _page_fetcher.cache_clear()
