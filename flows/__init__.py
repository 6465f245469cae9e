"""Prefect flows: each reads like the procedure it runs."""
