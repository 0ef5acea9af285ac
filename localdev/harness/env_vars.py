"""localdev/env.json: the functions' local environment, in `sam local`'s env-vars format.

It names no port and no key (`sam local` reads it too, and cannot import the harness's
defaults): the harness fills in the endpoints of the stack it serves.
"""

import json
from pathlib import Path
from typing import Any

from localdev.harness.defaults import PROJECT_ROOT

ENV_VARS_PATH = PROJECT_ROOT / "localdev" / "env.json"


def load_env_vars(path: Path = ENV_VARS_PATH) -> dict[str, Any]:
    env_vars: dict[str, Any] = json.loads(path.read_text())
    return env_vars
