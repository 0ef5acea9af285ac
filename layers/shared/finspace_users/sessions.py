"""The AWS sessions every client of this package is built on.

botocore parses endpoint data and service models once per session, and a session of
its own costs a client about 100 ms more at cold start. So the FinSpace, DynamoDB and
S3 clients share the function role's session, and the session that signs with FinSpace
credentials reads models through the same loader.
"""

import os
from functools import cache

import boto3
import botocore.loaders
import botocore.session


@cache
def _model_loader() -> botocore.loaders.Loader:
    """Parsed JSON only, no credentials or connections: it may outlive a SnapStart restore."""
    return botocore.loaders.create_loader(os.environ.get("AWS_DATA_PATH"))  # as botocore's own session does


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
