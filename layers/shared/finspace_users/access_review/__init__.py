"""The access review: the snapshot sweep, its change report, its S3 objects and the
signed evidence chain.

Only a docstring: importing a subpackage must load nothing (cold start).
"""
