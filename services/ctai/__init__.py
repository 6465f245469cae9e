"""The CTAI wing: a contract's records and proposal, its steps' forms and handlers, its texts,
and the contract as a kind of case (``workflow``)."""
