"""Email notifications: templates, outbox and sender."""
