"""What `sam build` produced (make test builds before it runs pytest): the pinned SDK
with finspace-data, arm64 wheels, and the shared package in its own layer."""

import re

import pytest

from localdev.template import PROJECT_ROOT

BUILD_DIR = PROJECT_ROOT / ".aws-sam" / "build"
pytestmark = pytest.mark.build


@pytest.fixture(scope="module", autouse=True)
def require_build() -> None:
    if not (BUILD_DIR / "template.yaml").exists():
        pytest.fail("no .aws-sam/build: run `make build` (make test does it first)")


def test_dependencies_layer_holds_the_last_sdk_with_finspace_data() -> None:
    python = BUILD_DIR / "DependenciesLayer" / "python"
    assert (python / "boto3-1.43.116.dist-info").is_dir()
    assert (python / "botocore-1.43.116.dist-info").is_dir()
    assert (python / "botocore" / "data" / "finspace-data").is_dir()
    assert (python / "aws_lambda_powertools-3.37.0.dist-info").is_dir()


@pytest.mark.parametrize("package", ["pydantic_core", "orjson"])
def test_compiled_wheels_are_for_arm64(package: str) -> None:
    extensions = list((BUILD_DIR / "DependenciesLayer" / "python" / package).glob("*.so"))
    assert extensions
    assert all(re.search(r"aarch64", path.name) for path in extensions)


def test_shared_layer_holds_the_package_and_functions_hold_only_handlers() -> None:
    assert (BUILD_DIR / "SharedLayer" / "python" / "finspace_users" / "api.py").is_file()
    for function in ("GetUserFunction", "ListUsersFunction"):
        built = {path.name for path in (BUILD_DIR / function).iterdir()}
        assert built == {"app.py", "requirements.txt"}
