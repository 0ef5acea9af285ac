"""The DynamoDB store behind the page cache and the snapshot ticks."""

import os
from typing import Any

from botocore.config import Config

from finspace_users.aws.sessions import role_session

# The page cache's budget (the snapshot passes its own): one attempt of 0.5 s to connect
# and 1 s to read. A caller is waiting, and a retry would not help: a late write has
# usually landed, so its retry finds this very request's record in progress and waits
# for itself. A late answer means "cache unavailable".
STORE_CONFIG = Config(connect_timeout=0.5, read_timeout=1, retries={"mode": "standard", "total_max_attempts": 1})


def idempotency_store(boto_config: Config = STORE_CONFIG) -> Any:
    """Built on first use, never at import: a store built before a test starts moto
    would bind to real AWS."""
    from aws_lambda_powertools.utilities.idempotency import DynamoDBPersistenceLayer

    return table_store(DynamoDBPersistenceLayer, boto_config)


def table_store(layer: type[Any], boto_config: Config) -> Any:
    """A persistence layer of that class (DynamoDBPersistenceLayer or a subclass) on the
    table, signed by the function role."""
    return layer(table_name=os.environ["IDEMPOTENCY_TABLE_NAME"], boto_config=boto_config, boto3_session=role_session())
