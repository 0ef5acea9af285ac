"""The baseline handler: boto3 only, the same FinSpace call as each of our routes."""

import json
import os
from typing import Any

import boto3

client = boto3.client("finspace-data", endpoint_url=os.environ["FINSPACE_ENDPOINT_URL"])


def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    response: dict[str, Any] = dict(
        client.get_user(userId=event["pathParameters"]["userId"])
        if event.get("pathParameters")
        else client.list_users(maxResults=int(event["queryStringParameters"]["maxResults"]))
    )
    response.pop("ResponseMetadata")
    return {"statusCode": 200, "body": json.dumps(response)}
