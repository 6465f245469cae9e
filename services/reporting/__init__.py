"""Seeing the work: the lists, the follow-up per département and the national dashboard (read only)."""
