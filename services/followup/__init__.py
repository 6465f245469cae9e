"""Following the cases over time: the daily reminders and escalations."""
