"""A current botocore with the finspace-data model taken from botocore 1.43.116 builds
the same client as 1.43.116 itself; the tools that build the lean, hash-locked layers
(packaging/sdk.py) do what they say."""

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import botocore
import pytest

from localdev.harness.defaults import PROJECT_ROOT
from localdev.harness.template import load_template
from tests.sdk_tools import sdk

# Run by the 1.43.116 botocore (build/sdk, from the same hash-checked wheel) and by ours,
# each in a fresh interpreter: what a client is, and the requests it sends.
DESCRIBE_CLIENT = r"""
import json, os, sys
if sys.argv[1] == "1.43.116":
    os.environ.pop("AWS_DATA_PATH", None)  # its own botocore/data, which has finspace-data
import botocore, botocore.session
from botocore.awsrequest import AWSResponse

class Body:
    def stream(self, **_):
        yield b"{}"

session = botocore.session.get_session()
session.set_credentials("AKIDEXAMPLE", "secret")

def client(region):
    return session.create_client("finspace-data", region_name=region)

def shape(model):
    described = {"type": model.type_name, "metadata": model.metadata, "serialization": model.serialization}
    if model.type_name == "structure":
        described["members"] = {name: member.name for name, member in model.members.items()}
        described["required"] = sorted(model.required_members)
    elif model.type_name == "list":
        described["member"] = model.member.name
    elif model.type_name == "map":
        described["key"], described["value"] = model.key.name, model.value.name
    elif model.type_name == "string":
        described["enum"] = model.enum
    return described

main = client("us-east-1")
service = main.meta.service_model
sent = []

def capture(request, **_):
    scope = request.headers["Authorization"].decode().split("Credential=")[1].split(",")[0].split("/")
    body = request.body.decode() if isinstance(request.body, bytes) else request.body
    sent.append({"method": request.method, "url": request.url, "body": body, "scope": scope[2:]})
    return AWSResponse(request.url, 200, {}, Body())

main.meta.events.register("before-send", capture)
main.get_user(userId="U1")
main.list_users(maxResults=5, nextToken="t")
main.get_programmatic_access_credentials(environmentId="e1", durationInMinutes=15)
print(json.dumps({
    "botocore": botocore.__version__,
    "signing name": service.signing_name,
    "protocol": service.protocol,
    "metadata": service.metadata,
    "operations": {
        name: {
            "http": operation.http,
            "input": operation.input_shape and operation.input_shape.name,
            "output": operation.output_shape and operation.output_shape.name,
            "errors": [error.name for error in operation.error_shapes],
            "auth": operation.auth_type,
        }
        for name in service.operation_names
        for operation in [service.operation_model(name)]
    },
    "shapes": {name: shape(service.shape_for(name)) for name in service.shape_names},
    "paginators": {
        name: main.get_paginator(name)._pagination_cfg
        for name in map(botocore.xform_name, service.operation_names)
        if main.can_paginate(name)
    },
    "endpoints": {
        region: client(region).meta.endpoint_url
        for region in ["us-east-1", "us-west-2", "eu-west-2", "ap-northeast-1", "ca-central-1", "us-gov-west-1"]
    },
    "requests": sent,
}, sort_keys=True, default=str))
"""


def describe_client(version: str) -> dict[str, Any]:
    environment = {key: value for key, value in os.environ.items() if not key.startswith("AWS_")}
    if version == "1.43.116":
        assert (sdk.OLD_SDK / "botocore").is_dir(), "botocore 1.43.116 is not under build/sdk: run make install"
        environment["PYTHONPATH"] = str(sdk.OLD_SDK)  # ahead of .venv's site-packages
    else:
        environment["AWS_DATA_PATH"] = str(sdk.DEVELOPMENT_DATA)
    completed = subprocess.run(  # noqa: S603 - our own script
        [sys.executable, "-c", DESCRIBE_CLIENT, version], env=environment, capture_output=True, text=True, check=False
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    described: dict[str, Any] = json.loads(completed.stdout)
    return described


def test_the_extracted_model_gives_the_client_botocore_1_43_116_gives() -> None:
    old, ours = describe_client("1.43.116"), describe_client("ours")
    pinned = sdk.pins(PROJECT_ROOT / "layers" / "dependencies" / "requirements.txt")["botocore"]
    assert (old.pop("botocore"), ours.pop("botocore")) == ("1.43.116", pinned)
    assert ours["signing name"] == "finspace-api"
    assert ours["protocol"] == "rest-json"
    assert set(ours["operations"]) >= {"GetUser", "ListUsers", "GetProgrammaticAccessCredentials"}
    assert "list_users" in ours["paginators"]
    assert ours["endpoints"]["us-east-1"] == "https://finspace-api.us-east-1.amazonaws.com"
    for key in old:
        assert ours[key] == old[key], key
    assert ours == old


def test_ours_has_no_finspace_data_model_of_its_own() -> None:
    """Why the model is extracted: without it the client cannot be built."""
    assert not (Path(botocore.__file__).parent / "data" / "finspace-data").exists()
    assert botocore.__version__ != "1.43.116"


def test_the_venv_and_the_shared_package_search_the_extracted_model(monkeypatch: pytest.MonkeyPatch) -> None:
    from finspace_users.aws import sessions

    assert str(sdk.DEVELOPMENT_DATA) in os.environ["AWS_DATA_PATH"].split(os.pathsep)  # the .venv's .pth line
    monkeypatch.setenv("AWS_DATA_PATH", f"/elsewhere{os.pathsep}~/models")
    assert sessions.model_search_paths()[:2] == ["/elsewhere", os.path.expanduser("~/models")]
    bundled = Path(sessions.__file__).parents[1] / "botocore_data"
    assert bundled == sessions.BUNDLED_MODELS
    assert (str(bundled) in sessions.model_search_paths()) == bundled.is_dir()


def test_extraction_refuses_files_that_differ_from_the_record(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    record = tmp_path / "record.sha256"
    lines = sdk.MODEL_HASHES.read_text().splitlines()
    record.write_text("\n".join(["0" * 64 + lines[0][64:], *lines[1:]]) + "\n")
    monkeypatch.setattr(sdk, "MODEL_HASHES", record)
    with pytest.raises(SystemExit, match="not as recorded"):
        sdk.extract_model(tmp_path / "data")
    assert not (tmp_path / "data").exists()


def write_module(root: Path, name: str, source: str) -> None:
    path = root.joinpath(*name.split(".")).with_suffix(".py")
    path.parent.mkdir(parents=True, exist_ok=True)
    for parent in path.relative_to(root).parents:
        if str(parent) != ".":
            (root / parent / "__init__.py").touch()
    path.write_text(source)


def test_the_scan_finds_clients_made_deep_in_what_the_code_imports(tmp_path: Path) -> None:
    code, layer = tmp_path / "code", tmp_path / "layer"
    for service in ("s3", "sts", "kms", "ec2", "lambda"):
        (layer / "botocore" / "data" / service).mkdir(parents=True)
    write_module(code, "app", "from ours import handler\n")
    write_module(code, "ours.handler", "from . import store\nimport boto3\nboto3.client('s3')\nboto3.client(name)\n")
    write_module(code, "ours.store", "def later():\n    from lib.deep import make\n")
    write_module(layer, "lib.deep", "def make(creator):\n    return creator._client_creator('sts')\n")
    write_module(layer, "lib.unused", "import boto3\nboto3.client('ec2')\n")
    write_module(layer, "lib.__init__", "x = session.create_client(service_name='kms')\n")

    assert sdk.services_created(layer, [code]) == {"s3", "sts", "kms"}


def test_pruning_keeps_the_used_models_and_botocores_own_files(tmp_path: Path) -> None:
    code, layer = tmp_path / "code", tmp_path / "layer"
    for service in ("s3", "ec2"):
        (layer / "botocore" / "data" / service).mkdir(parents=True)
        (layer / "boto3" / "data" / service).mkdir(parents=True)
    (layer / "botocore" / "data" / "endpoints.json").write_text("{}")
    (layer / "botocore" / "__init__.pyi").write_text("")
    write_module(code, "app", "import boto3\nboto3.resource('s3')\n")

    assert sdk.prune(layer, [code], []) == {"s3"}
    assert sorted(path.name for path in (layer / "botocore" / "data").iterdir()) == ["endpoints.json", "s3"]
    assert [path.name for path in (layer / "boto3" / "data").iterdir()] == ["s3"]
    assert not (layer / "botocore" / "__init__.pyi").exists()


def test_the_layers_install_only_hashed_wheels_from_their_lock() -> None:
    """The locks themselves, uv's: tests/unit/project/test_locks.py."""
    makefile = (PROJECT_ROOT / "packaging" / "Makefile").read_text()
    assert "--require-hashes" in makefile.split("INSTALL =", 1)[1].split("\n\n", 1)[0]
    for target in ("build-DependenciesLayer", "build-XRayLayer"):
        recipe = makefile.split(f"\n{target}:", 1)[1].split("\n\n", 1)[0]
        assert "check-lock requirements.txt requirements.lock" in recipe
        assert "$(INSTALL)" in recipe and "-r requirements.lock" in recipe


def test_the_xray_layer_is_attached_only_with_tracing() -> None:
    template = load_template()
    xray = template["Resources"]["XRayLayer"]
    assert xray["Condition"] == "TracesFunctions"
    assert xray["Properties"]["ContentUri"] == "layers/xray/"
    assert template["Globals"]["Function"]["Layers"] == [
        {"Ref": "DependenciesLayer"},
        {"Ref": "SharedLayer"},
        {"Fn::If": ["TracesFunctions", {"Ref": "XRayLayer"}, {"Ref": "AWS::NoValue"}]},
    ]
    dependencies = sdk.pins(PROJECT_ROOT / "layers" / "dependencies" / "requirements.txt")
    assert "aws-xray-sdk" not in dependencies
    assert "aws-xray-sdk" in sdk.pins(PROJECT_ROOT / "layers" / "xray" / "requirements.txt")


def test_what_aws_deploys_attaches_the_xray_layer_only_with_tracing() -> None:
    from tests.unit.template.test_deployed_template import TEMPLATE  # SAM's own transform

    resources = TEMPLATE["Resources"]
    (xray,) = [logical_id for logical_id in resources if logical_id.startswith("XRayLayer")]
    assert resources[xray]["Condition"] == "TracesFunctions"
    for function in ("GetUserFunction", "ListUsersFunction"):
        layers = resources[function]["Properties"]["Layers"]
        assert layers[-1] == {"Fn::If": ["TracesFunctions", {"Ref": xray}, {"Ref": "AWS::NoValue"}]}
        assert len(layers) == 3
