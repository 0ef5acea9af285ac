"""The DynamoDB store behind the page cache and the snapshot ticks."""

import os
from typing import Any

from botocore.config import Config

from finspace_users.sessions import role_session

# Each store call ends within 2 attempts of 0.5 s to connect and 1 s to read: a sick
# table costs an API request at most about 8 s (two calls) before it is served
# straight from FinSpace.
STORE_CONFIG = Config(connect_timeout=0.5, read_timeout=1, retries={"mode": "standard", "total_max_attempts": 2})


def idempotency_store(boto_config: Config = STORE_CONFIG) -> Any:
    """Built on first use, never at import: a store built before a test starts moto
    would bind to real AWS."""
    from aws_lambda_powertools.utilities.idempotency import DynamoDBPersistenceLayer

    return DynamoDBPersistenceLayer(
        table_name=os.environ["IDEMPOTENCY_TABLE_NAME"], boto_config=boto_config, boto3_session=role_session()
    )
