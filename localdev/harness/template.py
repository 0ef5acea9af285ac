"""Reads template.yaml the way the local tools need it: functions, their handlers and
environment, the API routes, the table and the bucket."""

import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from localdev.harness.defaults import PROJECT_ROOT

TEMPLATE_PATH = PROJECT_ROOT / "template.yaml"


class _CloudFormationLoader(yaml.SafeLoader):
    pass


def _intrinsic(loader: yaml.SafeLoader, tag_suffix: str, node: yaml.Node) -> dict[str, Any]:
    name = "Ref" if tag_suffix == "Ref" else f"Fn::{tag_suffix}"
    if isinstance(node, yaml.ScalarNode):
        return {name: loader.construct_scalar(node)}
    if isinstance(node, yaml.SequenceNode):
        return {name: loader.construct_sequence(node, deep=True)}
    return {name: loader.construct_mapping(node, deep=True)}  # type: ignore[arg-type]


_CloudFormationLoader.add_multi_constructor("!", _intrinsic)  # type: ignore[no-untyped-call]


@dataclass(frozen=True)
class FunctionSpec:
    logical_id: str
    code_dir: Path
    module_file: Path
    handler_name: str
    environment: dict[str, Any]
    routes: list[tuple[str, str]]  # (method, path) from Api events
    memory_size_mb: int
    timeout_seconds: int


@cache
def load_template(path: Path = TEMPLATE_PATH) -> dict[str, Any]:
    with path.open() as stream:
        template: dict[str, Any] = yaml.load(stream, Loader=_CloudFormationLoader)  # noqa: S506 - SafeLoader subclass
    return template


def functions(template: dict[str, Any] | None = None) -> dict[str, FunctionSpec]:
    template = template or load_template()
    global_function = template.get("Globals", {}).get("Function", {})
    specs = {}
    for logical_id, resource in template["Resources"].items():
        if resource["Type"] != "AWS::Serverless::Function":
            continue
        properties = resource["Properties"]
        module_name, handler_name = properties["Handler"].rsplit(".", 1)
        code_dir = PROJECT_ROOT / properties["CodeUri"]
        environment = {
            **global_function.get("Environment", {}).get("Variables", {}),
            **properties.get("Environment", {}).get("Variables", {}),
        }
        routes = [
            (event["Properties"]["Method"].upper(), event["Properties"]["Path"])
            for event in properties.get("Events", {}).values()
            if event["Type"] == "Api"
        ]
        specs[logical_id] = FunctionSpec(
            logical_id,
            code_dir,
            code_dir / f"{module_name.replace('.', '/')}.py",
            handler_name,
            environment,
            routes,
            memory_size_mb=int(properties.get("MemorySize", global_function["MemorySize"])),
            timeout_seconds=int(properties.get("Timeout", global_function["Timeout"])),
        )
    return specs


def resources_of_type(resource_type: str, template: dict[str, Any] | None = None) -> dict[str, dict[str, Any]]:
    template = template or load_template()
    return {
        logical_id: resource.get("Properties", {})
        for logical_id, resource in template["Resources"].items()
        if resource["Type"] == resource_type
    }


def route_pattern(path: str) -> re.Pattern[str]:
    """``/users/{userId}`` as a regex over a percent-encoded path, one segment per parameter."""
    regex = re.sub(r"\\\{(\w+)\\\}", r"(?P<\1>[^/]+)", re.escape(path))
    return re.compile(f"^{regex}/?$")
