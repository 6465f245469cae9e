"""Application services: the database, the unit of work and the use cases that the CLI and
the Prefect tasks share. Business rules stay in ``models``; this layer does the I/O."""
