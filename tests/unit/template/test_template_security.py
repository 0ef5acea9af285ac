"""Security properties of template.yaml that the scans do not pin down exactly."""

import json
import re
from typing import Any

from localdev.harness.template import TEMPLATE_PATH, load_template, resources_of_type

RESOURCES: dict[str, Any] = load_template()["Resources"]


def allow_statements() -> list[dict[str, Any]]:
    statements = []
    for properties in resources_of_type("AWS::IAM::Role").values():
        for policy in properties.get("Policies", []):
            statements += policy["PolicyDocument"]["Statement"]
    for properties in resources_of_type("AWS::IAM::Policy").values():
        statements += properties["PolicyDocument"]["Statement"]
    return [statement for statement in statements if statement["Effect"] == "Allow"]


def test_no_allow_statement_has_a_wildcard_action_or_resource() -> None:
    for statement in allow_statements():
        actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
        assert all("*" not in action for action in actions), statement
        assert statement["Resource"] != "*", statement


def test_every_checkov_suppression_has_a_reason_beside_its_resource() -> None:
    suppressed = 0
    for name, resource in RESOURCES.items():
        for skip in resource.get("Metadata", {}).get("checkov", {}).get("skip", []):
            assert re.fullmatch(r"CKV_AWS_\d+", skip["id"]), name
            assert len(skip.get("comment", "")) > 20, f"{name} skips {skip['id']} without a reason"
            suppressed += 1
    assert suppressed > 0


def test_every_cfn_lint_suppression_has_a_reason_comment_above_it() -> None:
    lines = TEMPLATE_PATH.read_text().splitlines()
    for number, line in enumerate(lines):
        if line.strip().startswith("cfn-lint:"):
            assert lines[number - 1].strip().startswith("# "), (
                f"line {number + 1}: cfn-lint suppression without a reason"
            )


def test_snapshot_bucket_is_private_encrypted_versioned_and_tls_only() -> None:
    bucket = RESOURCES["SnapshotBucket"]["Properties"]
    assert bucket["PublicAccessBlockConfiguration"] == {
        "BlockPublicAcls": True,
        "BlockPublicPolicy": True,
        "IgnorePublicAcls": True,
        "RestrictPublicBuckets": True,
    }
    assert bucket["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]["ServerSideEncryptionByDefault"]
    assert bucket["VersioningConfiguration"] == {"Status": "Enabled"}
    rules = {rule["Id"]: rule for rule in bucket["LifecycleConfiguration"]["Rules"]}
    assert set(rules) == {"AbortIncompleteUploads"}  # nothing expires before its lock ends
    statements = RESOURCES["SnapshotBucketPolicy"]["Properties"]["PolicyDocument"]["Statement"]
    (deny,) = [statement for statement in statements if statement["Sid"] == "DenyInsecureTransport"]
    assert deny["Effect"] == "Deny"
    assert deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}


def test_every_log_group_has_retention() -> None:
    log_groups = resources_of_type("AWS::Logs::LogGroup")
    assert set(log_groups) == {"GetUserLogGroup", "ListUsersLogGroup", "ApiAccessLogGroup"}
    for properties in log_groups.values():
        assert properties["RetentionInDays"] == {"Ref": "LogRetentionDays"}


def test_api_uses_iam_auth_stage_throttling_json_access_logs_and_gateway_validation() -> None:
    api = RESOURCES["UsersApi"]["Properties"]
    assert api["Auth"]["DefaultAuthorizer"] == "AWS_IAM"
    (settings,) = api["MethodSettings"]
    assert settings["ThrottlingRateLimit"] == {"Ref": "ApiThrottlingRateLimit"}
    assert settings["ThrottlingBurstLimit"] == {"Ref": "ApiThrottlingBurstLimit"}
    assert api["AccessLogSetting"]["DestinationArn"] == {"Fn::GetAtt": "ApiAccessLogGroup.Arn"}
    access_log = re.sub(r"\$context\.[\w.]+", "x", api["AccessLogSetting"]["Format"])
    assert json.loads(access_log)["requestId"] == "x"
    get_user = RESOURCES["GetUserFunction"]["Properties"]["Events"]["GetUser"]["Properties"]
    assert get_user["RequestModel"]["ValidateParameters"] is True
    assert get_user["RequestParameters"] == [{"method.request.path.userId": {"Required": True}}]


def test_api_gateways_own_errors_are_problems_too() -> None:
    responses = RESOURCES["UsersApi"]["Properties"]["GatewayResponses"]
    assert {"MISSING_AUTHENTICATION_TOKEN", "ACCESS_DENIED", "THROTTLED", "INTEGRATION_TIMEOUT"} <= set(responses)
    for name, response in responses.items():
        headers = response["ResponseParameters"]["Headers"]
        assert headers["Content-Type"] == "'application/problem+json'", name
        assert headers["Cache-Control"] == "'no-store'", name
        body = json.loads(response["ResponseTemplates"]["application/json"].replace("$context.requestId", "r-1"))
        assert set(body) == {"type", "title", "status", "detail", "requestId"}, name
        assert body["status"] == response["StatusCode"], name
        assert body["type"].startswith("urn:finspace-users:problem:"), name
