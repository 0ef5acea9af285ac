"""The AWS sessions every client of this package is built on.

botocore parses endpoint data and service models once per session, and a session of
its own costs a client about 100 ms more at cold start. So the FinSpace, DynamoDB and
S3 clients share the function role's session, and the session that signs with FinSpace
credentials reads models through the same loader.

botocore 1.43.117 and later have no finspace-data model. The build extracts it from the
botocore 1.43.116 wheel into the package's botocore_data/ (packaging/sdk.py), and
the loader searches that folder after AWS_DATA_PATH's, through botocore's public
`extra_search_paths`. In .venv, where this package runs from its source, AWS_DATA_PATH
names the same extracted files (build/botocore-data).
"""

import os
from functools import cache
from pathlib import Path

import boto3
import botocore.loaders
import botocore.session

# The finspace-data model the build puts at finspace_users/botocore_data (absent in the
# source tree).
BUNDLED_MODELS = Path(__file__).parents[1] / "botocore_data"


def model_search_paths() -> list[str]:
    """AWS_DATA_PATH's folders, as botocore's own session reads them, then ours."""
    paths = [os.path.expanduser(path) for path in os.environ.get("AWS_DATA_PATH", "").split(os.pathsep) if path]
    return [*paths, str(BUNDLED_MODELS)] if BUNDLED_MODELS.is_dir() else paths


@cache
def _model_loader() -> botocore.loaders.Loader:
    """Parsed JSON only, no credentials or connections: it may outlive a SnapStart restore."""
    return botocore.loaders.Loader(extra_search_paths=model_search_paths())


def botocore_session() -> botocore.session.Session:
    """A new session (its own credentials), sharing the parsed models."""
    session = botocore.session.get_session()
    session.register_component("data_loader", _model_loader())
    return session


@cache
def role_session() -> boto3.session.Session:
    """Signs with the function role's credentials."""
    return boto3.session.Session(botocore_session=botocore_session())


def reset_role_session() -> None:
    """Forget the role's cached credentials; clients built later resolve them afresh."""
    role_session.cache_clear()
