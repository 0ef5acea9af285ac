"""finspace-users: the operator's and auditor's tool for the access-review history.

Never shipped to Lambda. It reuses the shipped package's evidence code (finspace_users).
"""
