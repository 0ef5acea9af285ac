"""Where the local stack runs: this prints the record of the running `make run` stack,
or one field of it, or says in one line that none runs (exit 1).

`make run` records its endpoints in build/local-stack.json (FINSPACE_USERS_LOCAL_STACK
names another file) for as long as it runs, and every local command finds the stack
there, whatever ports it uses: make snapshot, make changes, make invoke --running,
finspace-users, and the README's emulator calls, through

    .venv/bin/python -m localdev.running finspaceUrl
"""

import json

from localdev.harness.commands import command_parser
from localdev.harness.stack_record import FIELDS, NoRunningStackError, running_stack


def main() -> None:
    parser = command_parser("localdev.running", __doc__)
    parser.add_argument("field", nargs="?", choices=FIELDS, help="print only this field; else the whole record")
    args = parser.parse_args()
    try:
        stack = running_stack()
    except NoRunningStackError as none:
        parser.exit(1, f"{none}: start one with `make run`.\n")
    record = stack.as_record()
    print(record[args.field] if args.field else json.dumps(record, indent=2))


if __name__ == "__main__":
    main()
