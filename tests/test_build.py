"""What `sam build` produced (make test builds both architectures before pytest): the
pinned SDK installed by hash, the finspace-data model as recorded, only the botocore
models our clients use, wheels for the build's architecture, the shared package and the
X-Ray SDK in layers of their own, and hash-based bytecode for every module."""

import hashlib
import importlib.util
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import botocore
import pytest
from botocore.loaders import Loader

from localdev.harness.defaults import PROJECT_ROOT
from localdev.harness.template import load_template
from tests.sdk_tools import sdk

BUILDS = {"arm64": PROJECT_ROOT / ".aws-sam" / "build", "x86_64": PROJECT_ROOT / ".aws-sam" / "build-x86_64"}
MACHINE = {"arm64": "aarch64", "x86_64": "x86_64"}
ARTIFACTS = ["DependenciesLayer", "SharedLayer", "XRayLayer", "GetUserFunction", "ListUsersFunction"]
LAYERS = ["DependenciesLayer", "SharedLayer", "XRayLayer"]
LOCKS = {"DependenciesLayer": "layers/dependencies", "XRayLayer": "layers/xray"}
CLIENT_CODE = [
    PROJECT_ROOT / "layers" / "shared",
    *(PROJECT_ROOT / "functions" / name for name in ("get_user", "list_users")),
]
# PEP 552: flags bit 0 set = hash-based; bit 1 clear = the source is never checked.
UNCHECKED_HASH_FLAGS = 0b01
pytestmark = pytest.mark.build


@pytest.fixture(scope="module", params=sorted(BUILDS))
def build(request: pytest.FixtureRequest) -> tuple[str, Path]:
    architecture, build_dir = request.param, BUILDS[request.param]
    if not (build_dir / "template.yaml").exists():
        pytest.fail(f"no {build_dir.relative_to(PROJECT_ROOT)}: make test builds it first")
    return architecture, build_dir


def built_metadata(build_dir: Path, logical_id: str) -> dict[str, str]:
    template = load_template(build_dir / "template.yaml")
    metadata: dict[str, str] = template["Resources"][logical_id].get("Metadata", {})
    return metadata


def test_layers_were_built_for_the_architecture(build: tuple[str, Path]) -> None:
    architecture, build_dir = build
    for layer in LAYERS:
        assert built_metadata(build_dir, layer)["BuildArchitecture"] == architecture


def python_dir(build_dir: Path, layer: str) -> Path:
    return build_dir / layer / "python"


def installed(python: Path) -> dict[str, str]:
    """Normalized name to version of every distribution installed in a layer."""
    found = {}
    for info in python.glob("*.dist-info"):
        name, version = info.name.removesuffix(".dist-info").rsplit("-", 1)
        found[sdk.normalized(name)] = version
    return found


@pytest.mark.parametrize("layer", sorted(LOCKS))
def test_each_layer_holds_exactly_its_lock(build: tuple[str, Path], layer: str) -> None:
    """Installed with --require-hashes from requirements.lock, which is of requirements.txt."""
    folder = PROJECT_ROOT / LOCKS[layer]
    sdk.check_lock(folder / "requirements.txt", folder / "requirements.lock")
    assert installed(python_dir(build[1], layer)) == sdk.pins(folder / "requirements.lock")


def test_dependencies_layer_holds_a_current_sdk_without_finspace_data(build: tuple[str, Path]) -> None:
    python = python_dir(build[1], "DependenciesLayer")
    versions = installed(python)
    pinned = sdk.pins(PROJECT_ROOT / "layers" / "dependencies" / "requirements.txt")
    for package in ("boto3", "botocore", "s3transfer", "aws-lambda-powertools"):
        assert versions[package] == pinned[package]
    assert versions["botocore"] != "1.43.116"
    assert not (python / "botocore" / "data" / "finspace-data").exists()
    assert "aws-xray-sdk" not in versions and not (python / "aws_xray_sdk").exists()


def test_shared_layer_holds_the_finspace_data_model_as_recorded(build: tuple[str, Path]) -> None:
    models = python_dir(build[1], "SharedLayer") / "finspace_users" / "botocore_data"
    built = {
        path.relative_to(models).as_posix(): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in models.rglob("*")
        if path.is_file()
    }
    assert built == sdk.recorded_model_hashes()
    assert set(built) == {
        "finspace-data/2020-07-13/service-2.json.gz",
        "finspace-data/2020-07-13/paginators-1.json",
        "finspace-data/2020-07-13/endpoint-rule-set-1.json.gz",
    }


def test_dependencies_layer_keeps_only_the_models_our_clients_use(build: tuple[str, Path]) -> None:
    """Found from the code (the clients it and what it imports create), plus botocore's
    own data files, which every client reads."""
    build_dir = build[1]
    python = python_dir(build_dir, "DependenciesLayer")
    data = python / "botocore" / "data"
    used = sdk.services_created(python, CLIENT_CODE, [python_dir(build_dir, "XRayLayer")])
    assert {"s3", "kms", "dynamodb", "sts"} <= used  # the snapshot, its signature, the page cache, the principal
    assert {path.name for path in data.iterdir() if path.is_dir()} == used
    shared_files = {path.name for path in (Path(botocore.__file__).parent / "data").iterdir() if path.is_file()}
    assert {path.name for path in data.iterdir() if path.is_file()} == shared_files
    assert {path.name for path in (python / "boto3" / "data").iterdir()} <= used


def test_every_client_the_code_creates_loads_its_model_from_the_built_layers(build: tuple[str, Path]) -> None:
    """Every model, finspace-data included, loads from the built layers alone."""
    build_dir = build[1]
    python = python_dir(build_dir, "DependenciesLayer")
    bundled = python_dir(build_dir, "SharedLayer") / "finspace_users" / "botocore_data"
    loader = Loader(
        extra_search_paths=[str(bundled), str(python / "botocore" / "data")], include_default_search_paths=False
    )
    used = sdk.services_created(python, CLIENT_CODE, [python_dir(build_dir, "XRayLayer")], [bundled])
    assert "finspace-data" in used
    for service in used:
        for model in ("service-2", "endpoint-rule-set-1"):
            assert loader.load_service_model(service, model)


# The x86_64 build runs here as Lambda runs it: no site-packages, Lambda's sys.path.
LAMBDA_CHILD = """
import json, sys
import botocore
from finspace_users.access_review import snapshot_objects
from finspace_users.aws import finspace, record_store, sessions

clients = {
    "finspace": finspace.finspace_client(),
    "finspace batch": finspace.finspace_batch_client(),
    "s3": snapshot_objects.s3_client(),
    "kms": snapshot_objects.kms_client(),
    "page cache": record_store.idempotency_store().client,
}
for service in json.loads(sys.argv[1]):
    clients[service] = sessions.role_session().client(service)
print(json.dumps({
    "botocore": botocore.__file__,
    "signing": clients["finspace"].meta.service_model.signing_name,
    "endpoint": clients["finspace"].meta.endpoint_url,
    "services": sorted({client.meta.service_model.service_name for client in clients.values()}),
    "xray imported": "aws_xray_sdk" in sys.modules,
}))
"""


def lambda_environment() -> dict[str, str]:
    return {
        "PATH": os.environ["PATH"],
        "AWS_REGION": "us-east-1",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_LAMBDA_FUNCTION_NAME": "GetUserFunction",
        "POWERTOOLS_TRACE_DISABLED": "true",
        "IDEMPOTENCY_TABLE_NAME": "pages",
        "PYTHONDONTWRITEBYTECODE": "1",
    }


def test_the_x86_64_layers_create_every_client_as_lambda_would() -> None:
    """No AWS_DATA_PATH, no .venv: the clients our code creates find their models in the
    built layers, and the X-Ray SDK stays out with tracing off."""
    build_dir = BUILDS["x86_64"]
    python = python_dir(build_dir, "DependenciesLayer")
    used = sdk.services_created(python, CLIENT_CODE, [python_dir(build_dir, "XRayLayer")])
    path = os.pathsep.join(str(python_dir(build_dir, layer)) for layer in ("DependenciesLayer", "SharedLayer"))
    completed = subprocess.run(  # noqa: S603 - our own script
        [getattr(sys, "_base_executable", sys.executable), "-S", "-c", LAMBDA_CHILD, json.dumps(sorted(used))],
        env={**lambda_environment(), "PYTHONPATH": path},
        capture_output=True,
        text=True,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    result = json.loads(completed.stdout.strip().splitlines()[-1])
    assert result["botocore"].startswith(str(python))
    assert result["signing"] == "finspace-api"
    assert result["endpoint"] == "https://finspace-api.us-east-1.amazonaws.com"
    assert set(result["services"]) == used | {"finspace-data", "s3", "kms", "dynamodb"}
    assert result["xray imported"] is False


@pytest.mark.parametrize("function", ["GetUserFunction", "ListUsersFunction"])
def test_the_x86_64_handlers_import_without_the_xray_layer(function: str) -> None:
    build_dir = BUILDS["x86_64"]
    roots = [build_dir / function, *(python_dir(build_dir, layer) for layer in ("DependenciesLayer", "SharedLayer"))]
    child = "import sys, app; print('aws_xray_sdk' in sys.modules)"
    completed = subprocess.run(  # noqa: S603 - our own script
        [getattr(sys, "_base_executable", sys.executable), "-S", "-c", child],
        env={**lambda_environment(), "PYTHONPATH": os.pathsep.join(map(str, roots))},
        cwd=build_dir / function,
        capture_output=True,
        text=True,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    assert completed.stdout.strip().splitlines()[-1] == "False"


def test_type_stubs_are_not_shipped(build: tuple[str, Path]) -> None:
    """The import system never reads a .pyi."""
    assert [path for layer in LAYERS for path in (build[1] / layer).rglob("*.pyi")] == []


@pytest.mark.parametrize("package", ["pydantic_core", "orjson"])
def test_compiled_wheels_are_for_the_architecture(build: tuple[str, Path], package: str) -> None:
    architecture, build_dir = build
    extensions = list((build_dir / "DependenciesLayer" / "python" / package).glob("*.so"))
    assert extensions
    assert all(re.search(rf"cpython-313-{MACHINE[architecture]}-linux-gnu", path.name) for path in extensions)


def test_shared_layer_holds_the_package_and_functions_hold_only_handlers(build: tuple[str, Path]) -> None:
    build_dir = build[1]
    assert (build_dir / "SharedLayer" / "python" / "finspace_users" / "http" / "api.py").is_file()
    assert (build_dir / "XRayLayer" / "python" / "aws_xray_sdk").is_dir()
    for function in ("GetUserFunction", "ListUsersFunction"):
        built = {path.relative_to(build_dir / function).as_posix() for path in (build_dir / function).rglob("*")}
        assert built == {"app.py", "__pycache__", "__pycache__/app.cpython-313.pyc"}


@pytest.mark.parametrize("artifact", ARTIFACTS)
def test_every_module_has_unchecked_hash_bytecode_for_cpython_313(build: tuple[str, Path], artifact: str) -> None:
    """A timestamp-based .pyc never validates after `sam package` dates entries 1980, so
    Lambda would compile the module again on every cold start."""
    sources = list((build[1] / artifact).rglob("*.py"))
    assert sources
    missing, not_hash_based = [], []
    for source in sources:
        cached = Path(importlib.util.cache_from_source(str(source)))
        if not cached.is_file():
            missing.append(source)
            continue
        header = cached.read_bytes()[:8]
        if header[:4] != importlib.util.MAGIC_NUMBER or int.from_bytes(header[4:8], "little") != UNCHECKED_HASH_FLAGS:
            not_hash_based.append(source)
    assert missing == []
    assert not_hash_based == []
