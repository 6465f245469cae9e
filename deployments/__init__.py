"""Deployment helpers for prefect.yaml."""
