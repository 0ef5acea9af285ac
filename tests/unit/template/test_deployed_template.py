"""What AWS would deploy: template.yaml after SAM's transform (localdev/transform.py).

SAM generates API definitions, Lambda permissions and roles that the source never
shows; these tests read the output, so that whatever SAM adds is checked too.
"""

import json
import re
import subprocess
import tempfile
from pathlib import Path
from typing import Any

import pytest

from localdev.harness.defaults import PROJECT_ROOT

SAM_PYTHON = PROJECT_ROOT / ".venv-sam/bin/python"


def deployed_template() -> dict[str, Any]:
    """A fresh transform of template.yaml, by the translator in SAM CLI's venv."""
    with tempfile.TemporaryDirectory() as scratch:
        output = Path(scratch) / "template.json"
        subprocess.run(  # noqa: S603 - our own module, in our own venv
            [SAM_PYTHON, "-m", "localdev.transform", output], cwd=PROJECT_ROOT, check=True, capture_output=True
        )
        transformed: dict[str, Any] = json.loads(output.read_text())
        return transformed


TEMPLATE = deployed_template()
RESOURCES: dict[str, Any] = TEMPLATE["Resources"]
FUNCTION_ROLES = {"GetUserFunction": "GetUserRole", "ListUsersFunction": "ListUsersRole"}
FINSPACE_CREDENTIALS_ARN = (
    "arn:${AWS::Partition}:finspace-api:${AWS::Region}:${AWS::AccountId}:/credentials/programmatic"
)
SNAPSHOT_OBJECTS = {"Fn::Sub": "${SnapshotBucket.Arn}/snapshots/*"}
DEAD_LETTERS = {"Fn::GetAtt": "ScheduleDeadLetterQueue.Arn"}
XRAY_ONLY_WHEN_TRACING = {
    "Fn::If": [
        "TracesFunctions",
        [{"Fn::Sub": "arn:${AWS::Partition}:iam::aws:policy/AWSXRayDaemonWriteAccess"}],
        {"Ref": "AWS::NoValue"},
    ]
}
# Every action each role may take, on what: the whole of what AWS would deploy.
ROLE_PERMISSIONS: dict[str, set[tuple[str, str]]] = {
    "GetUserRole": {
        ("logs:CreateLogStream", '{"Fn::GetAtt": "GetUserLogGroup.Arn"}'),
        ("logs:PutLogEvents", '{"Fn::GetAtt": "GetUserLogGroup.Arn"}'),
        ("sqs:SendMessage", json.dumps(DEAD_LETTERS)),
        ("sts:AssumeRole", '{"Fn::GetAtt": "FinSpacePrincipalRole.Arn"}'),
    },
    "ListUsersRole": {
        ("logs:CreateLogStream", '{"Fn::GetAtt": "ListUsersLogGroup.Arn"}'),
        ("logs:PutLogEvents", '{"Fn::GetAtt": "ListUsersLogGroup.Arn"}'),
        ("sqs:SendMessage", json.dumps(DEAD_LETTERS)),
        ("sts:AssumeRole", '{"Fn::GetAtt": "FinSpacePrincipalRole.Arn"}'),
        *(
            (action, '{"Fn::GetAtt": "IdempotencyTable.Arn"}')
            for action in ("dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem")
        ),
        ("s3:PutObject", json.dumps(SNAPSHOT_OBJECTS)),
        ("s3:AbortMultipartUpload", json.dumps(SNAPSHOT_OBJECTS)),
        ("s3:DeleteObject", json.dumps(SNAPSHOT_OBJECTS)),
        ("s3:GetObject", json.dumps(SNAPSHOT_OBJECTS)),
        ("s3:ListBucket", '{"Fn::GetAtt": "SnapshotBucket.Arn"}'),
        ("kms:Sign", '{"Fn::GetAtt": "SnapshotSigningKey.Arn"}'),
        ("kms:Verify", '{"Fn::GetAtt": "SnapshotSigningKey.Arn"}'),
    },
    "FinSpacePrincipalRole": {
        ("finspace-api:GetProgrammaticAccessCredentials", json.dumps({"Fn::Sub": FINSPACE_CREDENTIALS_ARN})),
    },
    "SnapshotScheduleRole": {
        ("lambda:InvokeFunction", '{"Ref": "ListUsersFunctionAliaslive"}'),
        ("sqs:SendMessage", json.dumps(DEAD_LETTERS)),
    },
    "CanaryScheduleRole": {
        ("lambda:InvokeFunction", '{"Ref": "GetUserFunctionAliaslive"}'),
        ("sqs:SendMessage", json.dumps(DEAD_LETTERS)),
    },
    # API Gateway's account-wide CloudWatch role (ConfigureApiGatewayAccount=true only):
    # AWS's own policy for it, which writes the logs of every API in the account.
    "ApiGatewayLogsRole": set(),
}
# Service roles whose trust has no aws:SourceAccount, and why.
SOURCE_ACCOUNT_EXCEPTIONS = {
    "ApiGatewayLogsRole": "API Gateway does not document aws:SourceAccount for its account-wide CloudWatch role",
}
DECRYPTING_ACTIONS = ("kms:Decrypt", "kms:ReEncrypt", "kms:CreateGrant", "kms:*", "kms:GenerateDataKey")


def listed(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def of_type(resource_type: str) -> dict[str, dict[str, Any]]:
    return {name: resource for name, resource in RESOURCES.items() if resource["Type"] == resource_type}


def role_statements(role: str) -> list[dict[str, Any]]:
    """Every statement of the role's inline policies and of the policies attached to it."""
    properties = RESOURCES[role]["Properties"]
    documents = [policy["PolicyDocument"] for policy in properties.get("Policies", [])]
    documents += [
        policy["Properties"]["PolicyDocument"]
        for policy in of_type("AWS::IAM::Policy").values()
        if {"Ref": role} in policy["Properties"]["Roles"]
    ]
    return [statement for document in documents for statement in document["Statement"]]


def test_the_translator_is_the_one_the_pinned_sam_cli_runs() -> None:
    pin = re.search(r"^aws-sam-translator==(\S+)$", (PROJECT_ROOT / "requirements/sam.txt").read_text(), re.M)
    sam_cli_metadata = next((PROJECT_ROOT / ".venv-sam").glob("lib/python*/site-packages/aws_sam_cli-*/METADATA"))
    sam_cli_pin = re.search(r"^Requires-Dist: aws-sam-translator==(\S+)$", sam_cli_metadata.read_text(), re.M)
    assert pin and sam_cli_pin
    assert pin[1] == sam_cli_pin[1]


def test_api_gateway_invokes_the_functions_itself_never_with_the_callers_credentials() -> None:
    paths = RESOURCES["UsersApi"]["Properties"]["Body"]["paths"]
    integrations = [
        operation["x-amazon-apigateway-integration"] for path in paths.values() for operation in path.values()
    ]
    assert len(integrations) == 2
    for integration in integrations:
        assert integration["type"] == "aws_proxy"
        assert "credentials" not in integration, integration


def test_api_gateway_may_invoke_each_function_only_from_this_api() -> None:
    permissions = of_type("AWS::Lambda::Permission")
    invoked = set()
    for name, permission in permissions.items():
        properties = permission["Properties"]
        assert properties["Action"] == "lambda:InvokeFunction", name
        assert properties["Principal"] == "apigateway.amazonaws.com", name
        source_arn, values = properties["SourceArn"]["Fn::Sub"]
        assert source_arn.startswith("arn:aws:execute-api:${AWS::Region}:${AWS::AccountId}:${__ApiId__}/"), name
        assert values["__ApiId__"] == {"Ref": "UsersApi"}, name
        invoked.add(properties["FunctionName"]["Ref"])
    assert invoked == {"GetUserFunctionAliaslive", "ListUsersFunctionAliaslive"}


def test_each_function_has_a_role_of_its_own() -> None:
    for function, role in FUNCTION_ROLES.items():
        assert RESOURCES[function]["Properties"]["Role"] == {"Fn::GetAtt": f"{role}.Arn"}


def test_every_role_may_do_exactly_what_its_holder_uses() -> None:
    assert set(of_type("AWS::IAM::Role")) == set(ROLE_PERMISSIONS), "a role nobody reviewed"
    for role, expected in ROLE_PERMISSIONS.items():
        granted = set()
        for statement in role_statements(role):
            assert statement["Effect"] == "Allow", role
            for action in listed(statement["Action"]):
                assert "*" not in action, (role, action)
                for resource in listed(statement["Resource"]):
                    assert resource != "*", (role, action)
                    granted.add((action, json.dumps(resource)))
        assert granted == expected, role


def test_managed_policies_are_only_xray_while_tracing_and_api_gateways_own() -> None:
    for role in FUNCTION_ROLES.values():
        assert RESOURCES[role]["Properties"]["ManagedPolicyArns"] == XRAY_ONLY_WHEN_TRACING
    for role in ("FinSpacePrincipalRole", "SnapshotScheduleRole", "CanaryScheduleRole"):
        assert "ManagedPolicyArns" not in RESOURCES[role]["Properties"], role
    assert RESOURCES["ApiGatewayLogsRole"]["Properties"]["ManagedPolicyArns"] == [
        {"Fn::Sub": "arn:${AWS::Partition}:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs"}
    ]
    assert RESOURCES["ApiGatewayLogsRole"]["Condition"] == "ConfiguresApiGatewayAccount"


def test_every_service_role_trusts_only_its_service_in_this_account() -> None:
    for role, resource in of_type("AWS::IAM::Role").items():
        (trust,) = resource["Properties"]["AssumeRolePolicyDocument"]["Statement"]
        assert trust["Effect"] == "Allow" and listed(trust["Action"]) == ["sts:AssumeRole"], role
        if "Service" not in trust["Principal"]:
            continue
        assert len(listed(trust["Principal"]["Service"])) == 1, role
        if role in SOURCE_ACCOUNT_EXCEPTIONS:
            continue
        assert trust["Condition"] == {"StringEquals": {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}}, role


def test_only_the_two_function_roles_may_become_the_finspace_principal() -> None:
    (trust,) = RESOURCES["FinSpacePrincipalRole"]["Properties"]["AssumeRolePolicyDocument"]["Statement"]
    assert trust["Principal"] == {"AWS": [{"Fn::GetAtt": "GetUserRole.Arn"}, {"Fn::GetAtt": "ListUsersRole.Arn"}]}
    environment = TEMPLATE["Resources"]["GetUserFunction"]["Properties"]["Environment"]["Variables"]
    assert environment["FINSPACE_PRINCIPAL_ROLE_ARN"] == {"Fn::GetAtt": "FinSpacePrincipalRole.Arn"}
    assert TEMPLATE["Outputs"]["FinSpacePrincipalRoleArn"]["Value"] == {"Fn::GetAtt": "FinSpacePrincipalRole.Arn"}


def test_schedules_run_with_our_roles_not_generated_ones() -> None:
    schedules = of_type("AWS::Scheduler::Schedule")
    assert len(schedules) == 2
    for name, schedule in schedules.items():
        role_arn = schedule["Properties"]["Target"]["RoleArn"]["Fn::GetAtt"]
        role = role_arn[0] if isinstance(role_arn, list) else role_arn.split(".")[0]
        assert role in {"SnapshotScheduleRole", "CanaryScheduleRole"}, name


def test_functions_log_to_their_own_retained_group() -> None:
    for function in FUNCTION_ROLES:
        log_group = function.replace("Function", "LogGroup")
        assert RESOURCES[function]["Properties"]["LoggingConfig"] == {"LogGroup": {"Ref": log_group}}


@pytest.mark.parametrize(
    "name",
    ["SnapshotBucket", "DataKey", "SnapshotSigningKey", "ApiAccessLogGroup", "GetUserLogGroup", "ListUsersLogGroup"],
)
def test_history_and_audit_logs_outlive_the_stack_and_replacements(name: str) -> None:
    assert RESOURCES[name]["DeletionPolicy"] == "Retain"
    assert RESOURCES[name]["UpdateReplacePolicy"] == "Retain"


def test_a_stage_change_keeps_the_old_access_logs() -> None:
    log_group = RESOURCES["ApiAccessLogGroup"]
    assert "${Stage}" in log_group["Properties"]["LogGroupName"]["Fn::Sub"]  # a Stage change replaces it...
    assert log_group["UpdateReplacePolicy"] == "Retain"  # ...and the replaced group stays


def test_table_and_bucket_are_encrypted_with_the_stacks_own_key() -> None:
    table = RESOURCES["IdempotencyTable"]["Properties"]["SSESpecification"]
    assert table == {"SSEEnabled": True, "SSEType": "KMS", "KMSMasterKeyId": {"Ref": "DataKey"}}
    (rule,) = RESOURCES["SnapshotBucket"]["Properties"]["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    assert rule["ServerSideEncryptionByDefault"] == {
        "SSEAlgorithm": "aws:kms",
        "KMSMasterKeyID": {"Fn::GetAtt": "DataKey.Arn"},
    }
    assert RESOURCES["DataKey"]["Properties"]["EnableKeyRotation"] is True


def decrypting(statement: dict[str, Any]) -> bool:
    return any(action.startswith(DECRYPTING_ACTIONS) for action in listed(statement["Action"]))


def test_only_the_snapshots_role_and_named_readers_may_decrypt() -> None:
    statements = RESOURCES["DataKey"]["Properties"]["KeyPolicy"]["Statement"]
    readers = [statement for statement in statements if "Fn::If" in statement]
    (reader_statement,) = readers
    condition, named_readers, absent = reader_statement["Fn::If"]
    assert condition == "HasSnapshotReaders" and absent == {"Ref": "AWS::NoValue"}
    assert named_readers["Principal"] == {"AWS": {"Ref": "SnapshotReaderArns"}}
    assert listed(named_readers["Action"]) == ["kms:Decrypt", "kms:DescribeKey"]
    decrypters = {}
    for statement in [s for s in statements if "Fn::If" not in s]:
        if decrypting(statement):
            decrypters[json.dumps(statement["Principal"])] = statement.get("Condition", {})
    root = json.dumps({"AWS": {"Fn::Sub": "arn:${AWS::Partition}:iam::${AWS::AccountId}:root"}})
    assert set(decrypters) == {root, json.dumps({"AWS": {"Fn::GetAtt": "ListUsersRole.Arn"}})}
    # The account's administrators may only let DynamoDB grant itself the key, for the table.
    assert decrypters[root] == {
        "StringEquals": {"kms:ViaService": {"Fn::Sub": "dynamodb.${AWS::Region}.amazonaws.com"}},
        "Bool": {"kms:GrantIsForAWSResource": "true"},
    }
    (administration,) = [s for s in statements if s.get("Sid") == "AdministerButNotUse"]
    assert not decrypting(administration)


def test_the_bucket_denies_reads_to_everyone_but_the_snapshots_role_and_named_readers() -> None:
    statements = RESOURCES["SnapshotBucketPolicy"]["Properties"]["PolicyDocument"]["Statement"]
    (deny,) = [statement for statement in statements if statement.get("Sid") == "DenyReadsToAllButNamedReaders"]
    assert deny["Effect"] == "Deny" and deny["Principal"] == "*"
    assert set(deny["Action"]) == {
        "s3:GetObject",
        "s3:GetObjectVersion",
        "s3:GetObjectAttributes",
        "s3:GetObjectVersionAttributes",
    }
    assert deny["Condition"] == {
        "ArnNotEquals": {"aws:PrincipalArn": {"Fn::GetAtt": "ListUsersRole.Arn"}},
        "ArnNotLike": {
            "aws:PrincipalArn": {"Fn::If": ["HasSnapshotReaders", {"Ref": "SnapshotReaderArns"}, ["arn:none"]]}
        },
    }


@pytest.mark.parametrize(
    ("name", "status", "slug"), [("DEFAULT_4XX", 400, "bad-request"), ("DEFAULT_5XX", 500, "internal-error")]
)
def test_api_gateways_default_errors_are_problems(name: str, status: int, slug: str) -> None:
    responses = RESOURCES["UsersApi"]["Properties"]["Body"]["x-amazon-apigateway-gateway-responses"]
    response = responses[name]
    assert response["statusCode"] == str(status)
    assert response["responseParameters"] == {
        "gatewayresponse.header.Content-Type": "'application/problem+json'",
        "gatewayresponse.header.Cache-Control": "'no-store'",
    }
    body = json.loads(response["responseTemplates"]["application/json"].replace("$context.requestId", "r-1"))
    assert body["type"] == f"urn:finspace-users:problem:{slug}"
    assert body["status"] == status
    assert set(body) == {"type", "title", "status", "detail", "requestId"}


def test_every_suppression_in_the_deployed_template_has_a_reason() -> None:
    generated = 0
    for name, resource in RESOURCES.items():
        for skip in resource.get("Metadata", {}).get("checkov", {}).get("skip", []):
            assert len(skip.get("comment", "")) > 20, f"{name} skips {skip['id']} without a reason"
            generated += name == "UsersApiStage"
    assert generated == 1  # the stage SAM generates carries UsersApi's reasoned skip


def test_the_scanned_file_is_this_transform() -> None:
    """`make scan` runs cfn-lint and checkov on build/transformed/template.json."""
    written = Path(PROJECT_ROOT / "build/transformed/template.json")
    if not written.exists():
        pytest.fail("run `make transform` (make test does) before the tests")
    assert json.loads(written.read_text()) == TEMPLATE


def test_only_the_snapshots_role_may_sign_and_anyone_named_may_verify() -> None:
    key = RESOURCES["SnapshotSigningKey"]["Properties"]
    assert (key["KeyUsage"], key["KeySpec"]) == ("SIGN_VERIFY", "RSA_2048")
    statements = key["KeyPolicy"]["Statement"]
    signers = [s for s in statements if "Fn::If" not in s and any("Sign" in a for a in listed(s["Action"]))]
    assert [(s["Principal"], sorted(listed(s["Action"]))) for s in signers] == [
        ({"AWS": {"Fn::GetAtt": "ListUsersRole.Arn"}}, ["kms:Sign", "kms:Verify"])
    ]
    (readers,) = [s for s in statements if "Fn::If" in s]
    assert readers["Fn::If"][1]["Principal"] == {"AWS": {"Ref": "SnapshotReaderArns"}}
    assert "kms:Sign" not in readers["Fn::If"][1]["Action"]
    environment = RESOURCES["ListUsersFunction"]["Properties"]["Environment"]["Variables"]
    assert environment["SNAPSHOT_SIGNING_KEY_ID"] == {"Fn::GetAtt": "SnapshotSigningKey.Arn"}
    assert "SNAPSHOT_SIGNING_KEY_ID" not in RESOURCES["GetUserFunction"]["Properties"]["Environment"]["Variables"]


def test_snapshots_are_locked_for_the_retention_and_no_rule_expires_them() -> None:
    bucket = RESOURCES["SnapshotBucket"]["Properties"]
    assert bucket["ObjectLockEnabled"] is True
    assert bucket["VersioningConfiguration"] == {"Status": "Enabled"}
    assert bucket["ObjectLockConfiguration"] == {
        "ObjectLockEnabled": "Enabled",
        "Rule": {"DefaultRetention": {"Mode": {"Ref": "SnapshotLockMode"}, "Years": {"Ref": "SnapshotRetentionYears"}}},
    }
    parameters = TEMPLATE["Parameters"]
    assert parameters["SnapshotRetentionYears"]["Default"] == 6
    assert parameters["SnapshotLockMode"]["AllowedValues"] == ["COMPLIANCE", "GOVERNANCE"]
    for rule in bucket["LifecycleConfiguration"]["Rules"]:
        expiring = {
            "ExpirationInDays",
            "ExpirationDate",
            "NoncurrentVersionExpiration",
            "NoncurrentVersionExpirationInDays",
        }
        assert not expiring & set(rule), rule["Id"]


def test_dev_can_be_emptied_and_prod_is_locked_for_six_years() -> None:
    samconfig = (PROJECT_ROOT / "samconfig.toml").read_text()
    overrides = dict(
        re.findall(r'^\[(\w+)\.deploy\.parameters\]\n(?:.*\n)*?parameter_overrides = "([^"]*)"', samconfig, re.M)
    )
    assert "SnapshotLockMode=GOVERNANCE" in overrides["default"].split()
    assert {"SnapshotLockMode=COMPLIANCE", "SnapshotRetentionYears=6"} <= set(overrides["prod"].split())


def test_the_bucket_denies_writes_and_deletes_to_everyone_but_the_snapshots_role() -> None:
    statements = RESOURCES["SnapshotBucketPolicy"]["Properties"]["PolicyDocument"]["Statement"]
    (deny,) = [statement for statement in statements if statement.get("Sid") == "DenyWritesToAllButTheSnapshot"]
    assert (deny["Effect"], deny["Principal"]) == ("Deny", "*")
    assert set(deny["Action"]) == {"s3:PutObject", "s3:DeleteObject"}
    assert deny["Resource"] == {"Fn::Sub": "${SnapshotBucket.Arn}/*"}
    assert deny["Condition"] == {"ArnNotEquals": {"aws:PrincipalArn": {"Fn::GetAtt": "ListUsersRole.Arn"}}}
