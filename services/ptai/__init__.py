"""The PTAI wing: a request's records, its steps' forms and handlers, its texts, and the request
as a kind of case (``workflow``)."""
