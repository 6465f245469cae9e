"""The ``territoires`` command line."""
