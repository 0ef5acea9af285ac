"""The README's reference tables agree with template.yaml."""

import re

from finspace_users.contracts.problems import GATEWAY_RESPONSES, THROTTLED, ProblemType
from localdev.harness.containers import STANDIN_IMAGE
from localdev.harness.defaults import PROJECT_ROOT
from localdev.harness.sam import sam_command
from localdev.harness.template import functions, load_template, resources_of_type
from tests.helpers import documentation

README = documentation()  # README.md and the docs site's pages
MAKEFILE = (PROJECT_ROOT / "Makefile").read_text()


def tables_in_section(heading: str) -> list[list[list[str]]]:
    """The markdown tables under `heading`, up to the next heading of the same level."""
    level = heading.split(" ")[0]
    section = README.split(f"\n{heading}\n", 1)[1]
    section = re.split(rf"\n{level} ", section, maxsplit=1)[0]
    tables: list[list[list[str]]] = []
    current: list[list[str]] = []
    for line in section.splitlines():
        if line.startswith("|"):
            cells = [cell.strip() for cell in line.strip("|").split("|")]
            if not set("".join(cells)) <= {"-", " "}:
                current.append(cells)
        elif current:
            tables.append(current[1:])  # without the header row
            current = []
    if current:
        tables.append(current[1:])
    return tables


def unquoted(cell: str) -> str:
    return cell.strip("`")


def test_parameter_table_matches_the_template() -> None:
    parameters_table = tables_in_section("# Configuration")[0]
    documented = {unquoted(row[0]): unquoted(row[1]) for row in parameters_table}
    template = load_template()["Parameters"]
    assert set(documented) == set(template)
    for name, default in documented.items():
        expected = str(template[name].get("Default", ""))
        assert (default if default != "empty" else "") == expected, name


def test_environment_tables_match_every_function() -> None:
    both, snapshot_only = (
        {unquoted(row[0]): unquoted(row[1]) for row in table} for table in tables_in_section("# Configuration")[1:3]
    )
    own = {"GetUserFunction": {}, "ListUsersFunction": snapshot_only}
    for spec in functions().values():
        documented = both | own[spec.logical_id]
        assert set(documented) == set(spec.environment), spec.logical_id
        for name, value in spec.environment.items():
            if isinstance(value, dict) and "Ref" in value:
                resources = {"IdempotencyTable": "the table", "SnapshotBucket": "the bucket"}
                assert documented[name] == resources.get(value["Ref"], value["Ref"]), name
            elif isinstance(value, str):
                assert documented[name] == (value or "empty"), name


def test_runbook_covers_every_alarm() -> None:
    runbook = tables_in_section("### Alarms and runbook")[0]
    assert {unquoted(row[0]) for row in runbook} == set(resources_of_type("AWS::CloudWatch::Alarm"))


def test_operator_sections_exist() -> None:
    for heading in (
        "### Architecture",
        "### Dashboard",
        "### Register the role in FinSpace",
        "### Calling the deployed API",
        "### Upgrading the pinned SDK",
    ):
        assert f"\n{heading}\n" in README
    assert "```mermaid" in README
    assert '"Action": "execute-api:Invoke"' in README


def test_with_docker_section_shows_the_command_the_container_tests_run() -> None:
    section = README.split("\n### With Docker: `sam local`\n", 1)[1].split("\n## ", 1)[0]
    command = sam_command("invoke", "GetUserFunction", "--event", "events/get_user.json", image=STANDIN_IMAGE)
    assert f"\n{' '.join(command)}\n" in section
    for target in ("sam-invoke", "sam-api", "build-x86_64"):
        assert re.search(rf"^{target}:", MAKEFILE, re.MULTILINE), target
        assert f"make {target}" in section


def test_errors_table_is_the_problem_catalogue() -> None:
    """One row per type, with the catalogue's status and title. That each type can happen
    is tests/unit/contracts/test_problem_catalogue.py's to check."""
    rows = tables_in_section("### Errors")[0]
    documented = [(int(row[0]), unquoted(row[1]), row[2]) for row in rows]
    assert len(documented) == len(set(documented)), "a problem type listed twice"
    assert set(documented) == {(kind.status, kind.slug, kind.title) for kind in ProblemType}
    (throttled,) = (row[3] for row in rows if unquoted(row[1]) == ProblemType.THROTTLED.slug)
    for answer in (THROTTLED, GATEWAY_RESPONSES["THROTTLED"]):
        assert f"`Retry-After: {answer.headers['Retry-After']}`" in throttled
