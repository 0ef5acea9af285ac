"""The Lambda runtime, in this process: a function of template.yaml imported once, like a
warm container, and invoked as `sam local invoke` would invoke it. The handler and
environment come from the template, the layers' code from this checkout, and template
values that need AWS from an env-vars file in `sam local`'s format
(``{"Parameters": {...}, "<LogicalId>": {...}}``).
"""

import importlib.util
import os
import sys
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any

from localdev.harness.defaults import ACCOUNT_ID, PROJECT_ROOT, REGION
from localdev.harness.env_vars import load_env_vars
from localdev.harness.template import FunctionSpec, functions

LAYER_SOURCE_DIRS = [PROJECT_ROOT / "layers" / "shared"]


@dataclass
class LocalContext:
    """The parts of the Lambda context object that Powertools reads, valued from the
    template as Lambda values them."""

    function_name: str
    memory_limit_in_mb: int
    timeout_seconds: int
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    log_group_name: str = ""
    log_stream_name: str = ""
    started: float = field(default_factory=time.monotonic)

    @property
    def invoked_function_arn(self) -> str:
        return f"arn:aws:lambda:{REGION}:{ACCOUNT_ID}:function:{self.function_name}"

    def get_remaining_time_in_millis(self) -> int:
        return int((self.timeout_seconds - (time.monotonic() - self.started)) * 1000)


def function_environment(spec: FunctionSpec, env_vars: dict[str, Any]) -> dict[str, str]:
    """Variables declared in the template, valued as `sam local` values them: the env-vars
    file first (function section over Parameters), then the template's literal."""
    overrides = {**env_vars.get("Parameters", {}), **env_vars.get(spec.logical_id, {})}
    environment = {}
    for name, value in spec.environment.items():
        if name in overrides:
            environment[name] = str(overrides[name])
        elif isinstance(value, (str, int, float)):
            environment[name] = str(value)
    return environment


def _import_handler(spec: FunctionSpec) -> ModuleType:
    for source_dir in LAYER_SOURCE_DIRS:
        if str(source_dir) not in sys.path:
            sys.path.insert(0, str(source_dir))
    module_spec = importlib.util.spec_from_file_location(f"{spec.logical_id}_handler", spec.module_file)
    assert module_spec is not None and module_spec.loader is not None
    module: ModuleType = importlib.util.module_from_spec(module_spec)
    module_spec.loader.exec_module(module)
    return module


class LocalFunction:
    """A template function imported once, like a warm container, and invoked in-process."""

    def __init__(self, spec: FunctionSpec, env_vars: dict[str, Any]) -> None:
        self.spec = spec
        self.environment = function_environment(spec, env_vars)
        os.environ.update(self.environment)
        self.module = _import_handler(spec)
        self.handler: Callable[[Any, Any], Any] = getattr(self.module, spec.handler_name)

    def invoke(self, event: Any) -> Any:
        # Both functions share this process; give each call its own declared environment.
        os.environ.update(self.environment)
        context = LocalContext(self.spec.logical_id, self.spec.memory_size_mb, self.spec.timeout_seconds)
        return self.handler(event, context)


def load_functions(env_vars: dict[str, Any] | None = None) -> dict[str, LocalFunction]:
    env_vars = load_env_vars() if env_vars is None else env_vars
    return {logical_id: LocalFunction(spec, env_vars) for logical_id, spec in functions().items()}
