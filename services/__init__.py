"""Application services: the use cases that the CLI and the Prefect tasks share, one wing per
case. Business rules stay in ``models``; this layer does the I/O.

- ``engine``: the approval-step engine (steps, codes, attempts, audit trail, step runs, and the
  one door to Prefect's API);
- ``ctai``, ``ptai``: each case's records, step handlers, forms, texts and kind of case;
- ``finance``: the envelope, the ministry's batches, the delegation of credits, the exports;
- ``followup``: the daily reminders;
- ``cases`` names every kind of case; ``registry`` records the actors; ``db`` and ``migrate``
  hold the database.
"""
