"""Prefect tasks: the I/O that flows perform, thin over services."""
