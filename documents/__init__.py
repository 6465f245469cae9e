"""Legal documents the platform generates (the arrêtés attributifs and conventions of R13), as PDF."""
