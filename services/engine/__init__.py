"""The approval-step engine, shared by every kind of case.

- ``kind``: what a kind of case tells the engine (``CaseKind``), and the declaration of its steps
  (``Step``, ``Decision``; ``build_machine`` makes the kind's state machine from them);
- ``money``: the money chain a decision declared ``grants`` sets off (wired by ``services.cases``);
- ``forms``: the approval forms' base and how an answer becomes a typed form;
- ``steps``: opening a step and judging an answer, each one transaction;
- ``codes``: personal approval codes and recorded attempts;
- ``audit``: the chained audit trail of decisions;
- ``runs``: the registry of step runs (one live Prefect run per case and step);
- ``launch``: starting a step's run; ``waiting``: the runs waiting for a decision;
- ``prefect_api``: the one module of ``services`` that talks to Prefect;
- ``texts``: the French texts every kind of case shares.
"""
