"""What the local commands share: the FinSpace emulator, moto, the in-process Lambda
runtime, the API front, the stack's record and the local defaults.

The commands (localdev/<command>.py) import this package and never one another; nothing
here imports a command (the import contracts in pyproject.toml hold both).
"""
