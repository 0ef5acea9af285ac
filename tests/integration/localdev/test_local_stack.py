"""The benchmark's local stack with moto in a process of its own."""

import boto3
import pytest
import requests

from localdev.harness.stack import LOCAL_BUCKET_NAME, LOCAL_TABLE_NAME, LocalStack, local_stack


def test_moto_apart_holds_the_template_storage_and_stops_with_the_stack(stack: LocalStack) -> None:
    with local_stack(finspace_port=0, moto_port=0, moto_apart=True) as apart:
        assert apart.moto_url != stack.moto_url
        s3 = boto3.client("s3", endpoint_url=apart.moto_url)
        assert [bucket["Name"] for bucket in s3.list_buckets()["Buckets"]] == [LOCAL_BUCKET_NAME]
        table = boto3.client("dynamodb", endpoint_url=apart.moto_url).describe_table(TableName=LOCAL_TABLE_NAME)
        assert table["Table"]["KeySchema"] == [{"AttributeName": "id", "KeyType": "HASH"}]

    with pytest.raises(requests.ConnectionError):
        requests.get(apart.moto_url, timeout=1)
