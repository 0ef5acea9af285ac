"""Schedules: the scheduled-event dispatcher and the canary action.

Only a docstring: importing a subpackage must load nothing (cold start).
"""
