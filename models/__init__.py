"""Domain model: tables, state machines and business rules, as pure code.

Nothing in this package imports Prefect, opens a database session or sends mail;
``tests/unit/test_models_are_pure.py`` checks it.
"""
