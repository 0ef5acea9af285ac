"""Local tooling: the FinSpace Data emulator, the in-process invoker and the HTTP front.

Never shipped to Lambda.
"""
