"""The settings other code and operators rely on: client budget, template contracts, IAM."""

import json
import os
import re
from pathlib import Path

import boto3
import pytest
from botocore.loaders import JSONFileLoader

from finspace_users.access_review import snapshot
from finspace_users.access_review.snapshot_objects import s3_client
from finspace_users.aws import sessions
from finspace_users.aws.finspace import CLIENT_CONFIG, finspace_client, reset_finspace_clients
from finspace_users.aws.record_store import STORE_CONFIG, idempotency_store
from finspace_users.http.page_cache import IN_PROGRESS_WAIT_SECONDS, _page_fetcher, reset_page_cache
from localdev.harness.defaults import PROJECT_ROOT
from localdev.harness.env_vars import load_env_vars
from localdev.harness.lambda_runtime import LocalFunction
from localdev.harness.template import functions, load_template, resources_of_type
from tests.helpers import CHANGE_METRICS, ClientBudget

API_GATEWAY_LIMIT_SECONDS = 29
FINSPACE_CREDENTIALS_ARN = (
    "arn:${AWS::Partition}:finspace-api:${AWS::Region}:${AWS::AccountId}:/credentials/programmatic"
)


def finspace_worst_case_seconds() -> float:
    reset_finspace_clients()
    config = finspace_client().meta.config  # as botocore resolved it
    reset_finspace_clients()
    return ClientBudget.of(config).worst_case_seconds()


def request_worst_case_seconds() -> float:
    """GET /users, the longest path (page_cache.py): a put that Powertools repeats, both
    finding the page in progress, two waits each ending in a read, then FinSpace once."""
    return (
        finspace_worst_case_seconds()
        + 4 * ClientBudget.of(STORE_CONFIG).worst_case_seconds()
        + IN_PROGRESS_WAIT_SECONDS
    )


def test_finspace_calls_are_retried_and_bounded() -> None:
    budget = ClientBudget.of(CLIENT_CONFIG)
    assert budget.mode in {"standard", "adaptive"}
    assert finspace_worst_case_seconds() > 2 * budget.read_timeout  # throttling and 5xx deserve a retry
    assert finspace_worst_case_seconds() <= 15


def test_function_timeout_covers_the_request_budget_and_stays_under_the_gateway() -> None:
    timeout = load_template()["Globals"]["Function"]["Timeout"]
    assert request_worst_case_seconds() < timeout < API_GATEWAY_LIMIT_SECONDS


def test_client_is_built_once_with_region_and_endpoint_override(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_REGION", "eu-west-2")
    monkeypatch.setenv("FINSPACE_ENDPOINT_URL", "http://127.0.0.1:9999")
    reset_finspace_clients()
    try:
        client = finspace_client()
        assert finspace_client() is client
        assert client.meta.region_name == "eu-west-2"
        assert client.meta.endpoint_url == "http://127.0.0.1:9999"
        assert client.meta.service_model.signing_name == "finspace-api"
    finally:
        reset_finspace_clients()


def test_empty_endpoint_override_means_the_aws_endpoint(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_REGION", "us-east-1")
    monkeypatch.setenv("FINSPACE_ENDPOINT_URL", "")
    reset_finspace_clients()
    try:
        assert finspace_client().meta.endpoint_url == "https://finspace-api.us-east-1.amazonaws.com"
    finally:
        reset_finspace_clients()


def test_template_keeps_the_handler_contracts() -> None:
    specs = functions()
    assert specs["GetUserFunction"].module_file.relative_to(PROJECT_ROOT).as_posix() == "functions/get_user/app.py"
    assert specs["ListUsersFunction"].module_file.relative_to(PROJECT_ROOT).as_posix() == "functions/list_users/app.py"
    assert {name: spec.handler_name for name, spec in specs.items()} == {
        "GetUserFunction": "lambda_handler",
        "ListUsersFunction": "lambda_handler",
    }
    assert specs["GetUserFunction"].routes == [("GET", "/users/{userId}")]
    assert specs["ListUsersFunction"].routes == [("GET", "/users")]
    assert load_template()["Globals"]["Function"]["Runtime"] == "python3.13"


def test_every_contract_variable_is_set_and_traces_hold_no_responses() -> None:
    for spec in functions().values():
        assert {
            "FINSPACE_ENDPOINT_URL",
            "FINSPACE_ENVIRONMENT_ID",
            "IDEMPOTENCY_TABLE_NAME",
            "SNAPSHOT_BUCKET_NAME",
            "PAGE_CACHE_SECONDS",
            "DORMANT_AFTER_DAYS",
            "POWERTOOLS_SERVICE_NAME",
            "POWERTOOLS_METRICS_NAMESPACE",
        } <= set(spec.environment)
        assert spec.environment["POWERTOOLS_TRACER_CAPTURE_RESPONSE"] == "false"
        assert spec.environment["POWERTOOLS_TRACER_CAPTURE_ERROR"] == "false"


def test_idempotency_table_has_the_keys_powertools_needs() -> None:
    table = load_template()["Resources"]["IdempotencyTable"]["Properties"]
    assert table["KeySchema"] == [{"AttributeName": "id", "KeyType": "HASH"}]
    assert table["AttributeDefinitions"] == [{"AttributeName": "id", "AttributeType": "S"}]
    assert table["TimeToLiveSpecification"] == {"AttributeName": "expiration", "Enabled": True}
    assert table["SSESpecification"]["SSEEnabled"] is True


def test_loading_a_handler_builds_no_page_store(
    unit_functions: dict[str, LocalFunction], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A store built at import would bind to whatever endpoint existed then: real AWS
    in a test that starts moto later."""
    reset_page_cache()
    for endpoint in ("AWS_ENDPOINT_URL_DYNAMODB", "AWS_ENDPOINT_URL_S3"):  # restored after the test
        monkeypatch.setenv(endpoint, os.environ[endpoint])
    LocalFunction(functions()["ListUsersFunction"], load_env_vars())
    assert _page_fetcher.cache_info().currsize == 0


def test_snapshot_schedule_retries_and_keeps_what_it_cannot_deliver() -> None:
    resources = load_template()["Resources"]
    snapshot = resources["ListUsersFunction"]["Properties"]["Events"]["Snapshot"]
    assert snapshot["Type"] == "ScheduleV2"
    properties = snapshot["Properties"]
    assert properties["ScheduleExpression"] == {"Ref": "SnapshotSchedule"}
    assert properties["ScheduleExpressionTimezone"] == {"Ref": "SnapshotScheduleTimezone"}
    assert json.loads(properties["Input"]) == {
        "action": "snapshot",
        "scheduledTime": "<aws.scheduler.scheduled-time>",
    }
    assert properties["RetryPolicy"]["MaximumRetryAttempts"] >= 1
    assert properties["DeadLetterConfig"] == {"Arn": {"Fn::GetAtt": "ScheduleDeadLetterQueue.Arn"}}
    for name in functions():
        on_failure = resources[name]["Properties"]["EventInvokeConfig"]["DestinationConfig"]["OnFailure"]
        assert on_failure == {"Type": "SQS", "Destination": {"Fn::GetAtt": "ScheduleDeadLetterQueue.Arn"}}


def test_canary_schedule_and_alarm_exist_only_with_a_canary_user() -> None:
    template = load_template()
    assert template["Conditions"]["HasCanary"] == {"Fn::Not": [{"Fn::Equals": [{"Ref": "CanaryUserId"}, ""]}]}
    schedule = template["Resources"]["CanarySchedule"]
    alarm = template["Resources"]["CanaryFailureAlarm"]
    assert schedule["Condition"] == alarm["Condition"] == template["Resources"]["CanaryScheduleRole"]["Condition"]
    assert schedule["Properties"]["Target"]["Input"] == {"Fn::Sub": '{"action": "canary", "userId": "${CanaryUserId}"}'}
    assert alarm["Properties"]["MetricName"] == "CanarySuccess"
    assert alarm["Properties"]["TreatMissingData"] == "breaching"


def test_dashboard_is_valid_json_with_the_operator_plots() -> None:
    body_template, variables = load_template()["Resources"]["Dashboard"]["Properties"]["DashboardBody"]["Fn::Sub"]
    placeholders = set(re.findall(r"\$\{([^}]+)\}", body_template))
    assert placeholders <= {"AWS::Region", "Stage", "GetUserFunction", "ListUsersFunction", *variables}
    body = json.loads(re.sub(r"\$\{[^}]+\}", "x", body_template))
    titles = {widget["properties"]["title"] for widget in body["widgets"]}
    assert titles == {
        "API latency (ms)",
        "API errors",
        "Lambda errors",
        "Lambda throttles",
        "Lambda duration p99 (ms)",
        "FinSpace call latency (ms)",
        "FinSpace throttling that outlasted retries",
        "Snapshot users",
        "Access-review changes per day",
        "Canary",
    }
    changes = next(widget for widget in body["widgets"] if widget["properties"]["title"].startswith("Access-review"))
    assert changes["properties"]["period"] == 86400
    assert changes["properties"]["stat"] == "Sum"
    assert tuple(row[1] for row in changes["properties"]["metrics"]) == CHANGE_METRICS


def test_every_alarm_can_notify_the_optional_topic() -> None:
    alarms = resources_of_type("AWS::CloudWatch::Alarm")
    assert set(alarms) == {
        "Api5xxAlarm",
        "GetUserErrorsAlarm",
        "ListUsersErrorsAlarm",
        "SnapshotMissingAlarm",
        "CanaryFailureAlarm",
        "DeadLetterQueueAlarm",
        "PrivilegeGrantAlarm",
        "ChangeHistoryUnreadableAlarm",
    }
    notify = {"Fn::If": ["HasAlarmTopic", [{"Ref": "AlarmTopicArn"}], {"Ref": "AWS::NoValue"}]}
    for properties in alarms.values():
        assert properties["AlarmActions"] == properties["OKActions"] == notify
    missing_snapshot = alarms["SnapshotMissingAlarm"]
    assert missing_snapshot["Period"] * missing_snapshot["EvaluationPeriods"] == 26 * 3600
    assert missing_snapshot["TreatMissingData"] == "breaching"
    grants = alarms["PrivilegeGrantAlarm"]
    assert grants["Metrics"][0]["Expression"] == "FILL(superUserGrants, 0) + FILL(apiAccessGrants, 0)"
    assert {query["Id"]: query["MetricStat"]["Metric"]["MetricName"] for query in grants["Metrics"][1:]} == {
        "superUserGrants": "SuperUserGrants",
        "apiAccessGrants": "ApiAccessGrants",
    }
    assert (grants["Threshold"], grants["ComparisonOperator"]) == (0, "GreaterThanThreshold")
    assert alarms["ChangeHistoryUnreadableAlarm"]["MetricName"] == "ChangeHistoryUnreadable"


def test_snapstart_is_opt_in_on_published_versions() -> None:
    template = load_template()
    function_globals = template["Globals"]["Function"]
    assert template["Parameters"]["SnapStart"]["Default"] == "false"
    assert function_globals["AutoPublishAlias"] == "live"
    assert function_globals["SnapStart"] == {"ApplyOn": {"Fn::If": ["UsesSnapStart", "PublishedVersions", "None"]}}


def test_one_architecture_parameter_drives_functions_and_layers_arm64_by_default() -> None:
    template = load_template()
    architecture = {"Ref": "Architecture"}
    assert template["Parameters"]["Architecture"]["Default"] == "arm64"
    assert template["Parameters"]["Architecture"]["AllowedValues"] == ["arm64", "x86_64"]
    assert template["Globals"]["Function"]["Architectures"] == [architecture]
    for logical_id, layer in template["Resources"].items():
        if layer["Type"] == "AWS::Serverless::LayerVersion":
            assert layer["Properties"]["CompatibleArchitectures"] == [architecture], logical_id
            assert layer["Metadata"]["BuildArchitecture"] == architecture, logical_id


def test_function_tracing_is_opt_in_and_off_keeps_the_xray_sdk_out_of_init() -> None:
    """Tracing costs about a quarter more cold start (make bench): it is the Tracing
    parameter's choice, false by default, and false also disables Powertools' Tracer."""
    template = load_template()
    function_globals = template["Globals"]["Function"]
    assert template["Parameters"]["Tracing"]["Default"] == "false"
    assert template["Conditions"]["TracesFunctions"] == {"Fn::Equals": [{"Ref": "Tracing"}, "true"]}
    assert function_globals["Tracing"] == {"Fn::If": ["TracesFunctions", "Active", "PassThrough"]}
    assert function_globals["Environment"]["Variables"]["POWERTOOLS_TRACE_DISABLED"] == {
        "Fn::If": ["TracesFunctions", "false", "true"]
    }


def test_sam_build_itself_compiles_bytecode_for_every_function_and_layer() -> None:
    """Plain `sam build` (the deploy path) runs packaging/Makefile, not a wrapper."""
    template = load_template()
    built = {
        logical_id: resource["Metadata"]
        for logical_id, resource in template["Resources"].items()
        if resource["Type"] in {"AWS::Serverless::Function", "AWS::Serverless::LayerVersion"}
    }
    assert set(built) == {"GetUserFunction", "ListUsersFunction", "DependenciesLayer", "SharedLayer", "XRayLayer"}
    makefile = (PROJECT_ROOT / "packaging" / "Makefile").read_text()
    for logical_id, metadata in built.items():
        assert (metadata["BuildMethod"], metadata["ContextPath"]) == ("makefile", "packaging"), logical_id
        assert f"build-{logical_id}" in makefile
    assert "--invalidation-mode unchecked-hash" in makefile


def test_endpoint_variables_for_sam_local_are_declared_empty_and_harmless(monkeypatch: pytest.MonkeyPatch) -> None:
    """`sam local --env-vars` sets only declared variables; empty, botocore uses AWS's endpoints."""
    variables = load_template()["Globals"]["Function"]["Environment"]["Variables"]
    assert variables["AWS_ENDPOINT_URL_DYNAMODB"] == variables["AWS_ENDPOINT_URL_S3"] == ""
    monkeypatch.setenv("AWS_ENDPOINT_URL_DYNAMODB", "")
    monkeypatch.setenv("AWS_ENDPOINT_URL_S3", "")
    session = boto3.session.Session(region_name="eu-west-2")
    assert session.client("dynamodb").meta.endpoint_url == "https://dynamodb.eu-west-2.amazonaws.com"
    assert session.client("s3").meta.endpoint_url == "https://s3.eu-west-2.amazonaws.com"


def test_every_client_shares_one_parse_of_the_endpoint_data(monkeypatch: pytest.MonkeyPatch) -> None:
    """A session of its own would parse endpoints.json again: about 100 ms of cold start
    per client."""
    reads: list[str] = []
    read = JSONFileLoader.load_file

    def recorded(loader: JSONFileLoader, path: str) -> object:
        loaded = read(loader, path)
        if loaded is not None:  # the loader tries each search path (AWS_DATA_PATH's first)
            reads.append(path)
        return loaded

    monkeypatch.setattr(JSONFileLoader, "load_file", recorded)
    monkeypatch.setenv("FINSPACE_ENDPOINT_URL", "")
    sessions._model_loader.cache_clear()
    sessions.reset_role_session()
    reset_finspace_clients()
    try:
        finspace_client()
        idempotency_store()
        s3_client()
        sessions.botocore_session().create_client("finspace-data")  # as when signing with FinSpace credentials
    finally:
        reset_finspace_clients()
        snapshot.reset_snapshot_store()
    shared = [path for path in reads if Path(path).name in {"endpoints", "partitions", "sdk-default-configuration"}]
    assert len(shared) == 3, shared
