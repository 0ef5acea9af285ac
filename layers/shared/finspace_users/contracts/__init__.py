"""What callers see, shared by the HTTP and schedule paths: the problem catalogue and the
schedule input models.

Only a docstring: importing a subpackage must load nothing (cold start).
"""
