"""The money chain: the national envelope, the ministry's batches and their arbitrage, the
delegation of credits to the départements, and the exports."""
