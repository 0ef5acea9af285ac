"""template.yaml as AWS deploys it: SAM's own transform (aws-sam-translator, pinned to
the version that the pinned SAM CLI uses) applied to it, with CodeUri and ContentUri
pointing at S3 as `sam package` leaves them.

    .venv-sam/bin/python -m localdev.transform build/transformed/template.json

It runs in SAM CLI's venv: the translator pins a pydantic older than the one the
functions ship with.

The template tests read this output as well as the source, and `make scan` runs the
scanners on it: SAM generates roles, permissions and API definitions that template.yaml
never shows.
"""

import argparse
import copy
import json
from functools import cache
from pathlib import Path
from typing import Any

import boto3
from samtranslator.parser.parser import Parser
from samtranslator.translator.translator import Translator

from localdev.harness.commands import cli_description
from localdev.harness.defaults import REGION
from localdev.harness.template import load_template

PACKAGED_ARTIFACT_PROPERTIES = ("CodeUri", "ContentUri")


def packaged(template: dict[str, Any]) -> dict[str, Any]:
    """The template with every local artifact path replaced by an S3 URI, as after `sam package`."""
    template = copy.deepcopy(template)
    for resource in template["Resources"].values():
        properties = resource.get("Properties", {})
        for name in PACKAGED_ARTIFACT_PROPERTIES:
            if isinstance(properties.get(name), str):
                properties[name] = f"s3://packaged-artifacts/{properties[name].strip('/')}.zip"
    return template


def with_inherited_checkov_skips(source: dict[str, Any], output: dict[str, Any]) -> dict[str, Any]:
    """Give each resource that SAM generated (UsersApiStage, from UsersApi) the checkov
    skips of the resource it came from, so that every suppression is still written, with
    its reason, beside its resource in template.yaml."""
    skips = {
        name: resource["Metadata"]["checkov"]
        for name, resource in source["Resources"].items()
        if "checkov" in resource.get("Metadata", {})
    }
    for name, resource in output["Resources"].items():
        origins = [origin for origin in skips if name.startswith(origin)]
        if origins and name not in source["Resources"]:
            resource.setdefault("Metadata", {})["checkov"] = skips[max(origins, key=len)]
    return output


@cache
def transformed_template() -> dict[str, Any]:
    """The CloudFormation template that `sam deploy` would send (conditions unresolved)."""
    source = load_template()
    # Any commercial region: the translator needs one for the partition, and leaves
    # ${AWS::Region} itself to CloudFormation.
    translator = Translator(None, Parser(), boto_session=boto3.session.Session(region_name=REGION))
    # No managed policy is named by its short name, so the translator needs no IAM lookup.
    translated = translator.translate(packaged(source), parameter_values={}, get_managed_policy_map=dict)
    output: dict[str, Any] = json.loads(json.dumps(translated))
    return with_inherited_checkov_skips(source, output)


def main() -> None:
    parser = argparse.ArgumentParser(
        prog=".venv-sam/bin/python -m localdev.transform", description=cli_description(__doc__)
    )
    parser.add_argument("output", type=Path, help="where to write the transformed template (JSON)")
    args = parser.parse_args()
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(transformed_template(), indent=2, sort_keys=True) + "\n")
    print(f"Wrote {args.output}: template.yaml as SAM transforms it.")


if __name__ == "__main__":
    main()
