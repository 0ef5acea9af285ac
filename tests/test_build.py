"""What `sam build` produced (make test builds both architectures before pytest): the
pinned SDK with finspace-data, wheels for the build's architecture, the shared package in
its own layer, and hash-based bytecode for every module."""

import importlib.util
import re
from pathlib import Path

import pytest

from localdev.template import PROJECT_ROOT, load_template

BUILDS = {"arm64": PROJECT_ROOT / ".aws-sam" / "build", "x86_64": PROJECT_ROOT / ".aws-sam" / "build-x86_64"}
MACHINE = {"arm64": "aarch64", "x86_64": "x86_64"}
ARTIFACTS = ["DependenciesLayer", "SharedLayer", "GetUserFunction", "ListUsersFunction"]
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
    for layer in ("DependenciesLayer", "SharedLayer"):
        assert built_metadata(build_dir, layer)["BuildArchitecture"] == architecture


def test_dependencies_layer_holds_the_last_sdk_with_finspace_data(build: tuple[str, Path]) -> None:
    python = build[1] / "DependenciesLayer" / "python"
    assert (python / "boto3-1.43.116.dist-info").is_dir()
    assert (python / "botocore-1.43.116.dist-info").is_dir()
    assert (python / "botocore" / "data" / "finspace-data").is_dir()
    assert (python / "aws_lambda_powertools-3.37.0.dist-info").is_dir()


@pytest.mark.parametrize("package", ["pydantic_core", "orjson"])
def test_compiled_wheels_are_for_the_architecture(build: tuple[str, Path], package: str) -> None:
    architecture, build_dir = build
    extensions = list((build_dir / "DependenciesLayer" / "python" / package).glob("*.so"))
    assert extensions
    assert all(re.search(rf"cpython-313-{MACHINE[architecture]}-linux-gnu", path.name) for path in extensions)


def test_shared_layer_holds_the_package_and_functions_hold_only_handlers(build: tuple[str, Path]) -> None:
    build_dir = build[1]
    assert (build_dir / "SharedLayer" / "python" / "finspace_users" / "api.py").is_file()
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
