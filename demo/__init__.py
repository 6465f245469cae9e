"""The demonstration: the real examples of the public sources (Poitiers, Le Havre, Tours, …)
with fictitious identifiers, put at every stage of the procedure, and their runs.

Production code never imports this package (a test checks it): ``territoires seed demo`` and
``territoires up --demo`` run it as a separate program, ``python -m demo``.
"""
