"""Local tooling, never shipped to Lambda: the commands users type (python -m
localdev.<command>), each its own module that imports only localdev.harness, where
everything they share lives.
"""
