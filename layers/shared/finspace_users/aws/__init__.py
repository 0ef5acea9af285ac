"""AWS plumbing: the FinSpace client and its orjson page parser, the role session and
bundled model, the DynamoDB record store, logging, metrics and tracing.

Only a docstring: importing a subpackage must load nothing (cold start).
"""
