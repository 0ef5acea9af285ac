"""Run a function of template.yaml in this process, as `sam local invoke` would in a
container: the handler and environment come from the template, the layers' code from
this checkout, and template values that need AWS come from an env-vars file in
`sam local`'s format (``{"Parameters": {...}, "<LogicalId>": {...}}``).

    python -m localdev.invoke GetUserFunction events/get_user.json

It starts a throwaway emulator and moto of its own for the call, and says so; with
--running it uses the running `make run` stack that build/local-stack.json records.
"""

import contextlib
import importlib.util
import json
import logging
import os
import sys
import time
import uuid
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

from localdev import command_parser, run_interruptibly
from localdev.env_vars import load_env_vars
from localdev.running import NoRunningStackError, running_stack
from localdev.template import PROJECT_ROOT, FunctionSpec, functions

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
        return f"arn:aws:lambda:us-east-1:123456789012:function:{self.function_name}"

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


@contextmanager
def _stack_for_one_invoke(user_count: int) -> Iterator[dict[str, Any]]:
    from localdev.stack import local_stack  # only here, for moto's import cost: no circle

    with local_stack(user_count=user_count, finspace_port=0, moto_port=0) as stack:
        yield stack.env_vars


def main() -> None:
    parser = command_parser("localdev.invoke", __doc__)
    parser.add_argument("function", help="logical id in template.yaml, e.g. GetUserFunction")
    parser.add_argument("event", type=Path, help="event JSON file, e.g. events/get_user.json")
    parser.add_argument(
        "--running",
        action="store_true",
        help="use the running `make run` stack (build/local-stack.json) instead of a throwaway one",
    )
    args = parser.parse_args()
    specs = functions()
    if args.function not in specs:
        parser.error(f"no function {args.function!r} in template.yaml; choose from {', '.join(specs)}")
    try:
        event = json.loads(args.event.read_text())
    except (OSError, ValueError) as unreadable:
        parser.error(f"cannot read the event {args.event}: {unreadable}")
    if args.running:
        try:
            running = running_stack()
        except NoRunningStackError as none:
            parser.exit(1, f"--running: {none}. Start `make run`, or drop --running for a throwaway stack.\n")
    else:
        print(
            "A throwaway stack of its own (50 users) for this call, gone with it; --running uses make run's.",
            file=sys.stderr,
        )
    # The function's own log lines only: no server access lines, and no warning that an
    # error path published no metric.
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    warnings.filterwarnings("ignore", message="No application metrics to publish")
    # Like `sam local invoke`: the function's logs on stderr, its result on stdout.
    with contextlib.redirect_stdout(sys.stderr):
        if args.running:
            # What the Lambda runtime and the stack provide: the region, the role's key,
            # the endpoints.
            os.environ.update(running.process_environment)
            result = LocalFunction(specs[args.function], running.env_vars(load_env_vars())).invoke(event)
        else:
            with _stack_for_one_invoke(user_count=50) as env_vars:
                result = LocalFunction(specs[args.function], env_vars).invoke(event)
    print(json.dumps(result, indent=2, default=str))


if __name__ == "__main__":
    run_interruptibly(main, "Interrupted.")
