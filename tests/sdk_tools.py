"""packaging/sdk.py, imported for the tests (packaging/ is no package: its name is PyPI's)."""

import importlib.util
import sys
from types import ModuleType

from localdev.harness.defaults import PROJECT_ROOT

SDK_SCRIPT = PROJECT_ROOT / "packaging" / "sdk.py"


def load_sdk() -> ModuleType:
    if "finspace_users_packaging_sdk" in sys.modules:
        return sys.modules["finspace_users_packaging_sdk"]
    spec = importlib.util.spec_from_file_location("finspace_users_packaging_sdk", SDK_SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


sdk = load_sdk()
