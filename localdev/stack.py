"""Compatibility only, until localdev/sam_local.py, localdev/containers.py and
tests/containers/ import localdev.harness.stack: the local stack lives there."""

from localdev.harness.stack import LOCAL_BUCKET_NAME, LocalStack, free_port, http_answers, local_stack, wait_until_ready

__all__ = ["LOCAL_BUCKET_NAME", "LocalStack", "free_port", "http_answers", "local_stack", "wait_until_ready"]
