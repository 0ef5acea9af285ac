"""Shared code of the finspace-users functions, shipped to Lambda as the SharedLayer."""
