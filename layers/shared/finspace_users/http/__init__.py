"""HTTP: the API Gateway front door (resolver, problem responses, schedule dispatch), the
response models and OpenAPI, and the ListUsers page cache.

Only a docstring: importing a subpackage must load nothing (cold start).
"""
