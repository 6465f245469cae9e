"""End to end, as operators and agents meet the platform: ``territoires up`` and the Prefect UI in
a browser, and ``prefect deploy --all`` on a server of its own."""
