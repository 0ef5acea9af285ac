"""Lambda SnapStart: nothing cached before the snapshot may outlive a restore.

A snapshot can be restored many times, hours later: FinSpace credentials cached in it
could be expired, and its HTTP connections are dead. After each restore the cached
clients, credentials and connections are dropped; the next call builds fresh ones.
"""

import sys

from finspace_users.aws.finspace import reset_finspace_clients
from finspace_users.aws.sessions import reset_role_session
from finspace_users.http.page_cache import reset_page_cache


def forget_connections_and_credentials() -> None:
    reset_finspace_clients()
    reset_page_cache()
    reset_role_session()
    snapshot = sys.modules.get("finspace_users.access_review.snapshot")  # loaded only on schedule paths
    if snapshot is not None:
        snapshot.reset_snapshot_store()


try:
    # The Lambda runtime provides this module; it must not be shipped in a layer, or
    # hooks would land in a registry the runtime never reads.
    from snapshot_restore_py import register_after_restore
except ModuleNotFoundError:  # outside Lambda there is nothing to restore from
    pass
else:
    register_after_restore(forget_connections_and_credentials)
