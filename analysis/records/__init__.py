"""Records: what happened to the data after its session closed.

``audit`` keeps the hash-chained audit log (withdrawals after the session); ``verify`` checks a data
folder against what its sessions recorded when they closed.
"""
