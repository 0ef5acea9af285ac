"""Compatibility only, until localdev/sam_local.py and localdev/containers.py import
localdev.harness.template: the template reader lives there."""

from localdev.harness.defaults import PROJECT_ROOT
from localdev.harness.template import functions

__all__ = ["PROJECT_ROOT", "functions"]
