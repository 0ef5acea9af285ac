"""One place holds the local ports, region, keys and record path
(localdev/harness/defaults.py): what cannot import it (localdev/env.json, which `sam
local` reads, the Makefile's help, the operator CLI, sam_local.py's parser) says the same."""

import argparse
import json
import re
from typing import Any

import pytest

from finspace_users_cli import sources
from localdev import emulator, run, sam_local
from localdev.harness.defaults import (
    ACCESS_KEY_ID,
    API_PORT,
    DEFAULT_RECORD,
    EMULATOR_PORT,
    HOST,
    MOTO_PORT,
    PROJECT_ROOT,
    RECORD_VARIABLE,
    SAM_API_PORT,
    SECRET_ACCESS_KEY,
)
from localdev.harness.env_vars import ENV_VARS_PATH

MAKEFILE = (PROJECT_ROOT / "Makefile").read_text()


def test_env_json_names_no_port_and_no_key() -> None:
    """The harness fills in the endpoints of the stack it serves, on whatever ports; a
    port or key written here would be a second copy of the defaults."""
    env_vars = json.loads(ENV_VARS_PATH.read_text())
    values = {name: str(value) for section in env_vars.values() for name, value in section.items()}

    assert not {"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"} & values.keys()
    for name, value in values.items():
        assert not re.search(r"(127\.0\.0\.1|localhost)|:\d{2,5}\b", value), f"{name}={value}"
        assert value not in (ACCESS_KEY_ID, SECRET_ACCESS_KEY), f"{name} holds the test key"
    endpoints = [name for name in values if name.startswith("AWS_ENDPOINT_URL_") or name == "FINSPACE_ENDPOINT_URL"]
    assert endpoints and all(values[name] == "" for name in endpoints)


def test_the_makefile_help_names_the_default_ports() -> None:
    (run_help,) = re.findall(r"^run:.*## (.*)$", MAKEFILE, re.MULTILINE)
    (sam_api_help,) = re.findall(r"^sam-api:.*## (.*)$", MAKEFILE, re.MULTILINE)

    assert f"on {HOST} (API {API_PORT}, emulator {EMULATOR_PORT}, moto {MOTO_PORT};" in run_help
    assert f"{HOST}:{SAM_API_PORT}" in sam_api_help


def test_the_operator_cli_finds_the_record_where_make_run_writes_it() -> None:
    """finspace-users cannot import localdev (an import contract): it keeps a copy."""
    assert PROJECT_ROOT / sources.LOCAL_STACK_RECORD == DEFAULT_RECORD
    assert f'"{RECORD_VARIABLE}"' in (PROJECT_ROOT / sources.__file__).read_text()


class _ParserCapturedError(Exception):
    def __init__(self, parser: argparse.ArgumentParser) -> None:
        self.parser = parser


def defaults_of(main: Any, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """Every option's default in a command's parser and its subcommands' (dest: default)."""

    def capture(parser: argparse.ArgumentParser, *args: Any, **kwargs: Any) -> None:
        raise _ParserCapturedError(parser)

    monkeypatch.setattr(argparse.ArgumentParser, "parse_args", capture)
    with pytest.raises(_ParserCapturedError) as parsed:
        main()
    parser = parsed.value.parser
    subparsers = [
        subparser
        for action in parser._actions
        if isinstance(action, argparse._SubParsersAction)
        for subparser in action.choices.values()
    ]
    return {
        f"{each.prog.split()[-1]} {action.dest}": action.default
        for each in (parser, *subparsers)
        for action in each._actions
        if action.option_strings
    }


def test_the_commands_listen_on_the_default_ports(monkeypatch: pytest.MonkeyPatch) -> None:
    run_defaults = defaults_of(run.main, monkeypatch)

    assert run_defaults["localdev.run port"] == API_PORT
    assert run_defaults["localdev.run finspace_port"] == EMULATOR_PORT
    assert run_defaults["localdev.run moto_port"] == MOTO_PORT
    assert defaults_of(emulator.main, monkeypatch)["localdev.emulator port"] == EMULATOR_PORT
    assert defaults_of(sam_local.main, monkeypatch)["start-api port"] == SAM_API_PORT
