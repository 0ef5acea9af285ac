"""localdev/env.json: the functions' local environment, in `sam local`'s env-vars format.

Its own module, below both the invoker and the stack, so that neither imports the other
for it.
"""

import json
from pathlib import Path
from typing import Any

from localdev.template import PROJECT_ROOT

ENV_VARS_PATH = PROJECT_ROOT / "localdev" / "env.json"


def load_env_vars(path: Path = ENV_VARS_PATH) -> dict[str, Any]:
    env_vars: dict[str, Any] = json.loads(path.read_text())
    return env_vars
