"""The daily run: overdue corrective actions, red tags escalated, plan reminders, e-mail digests and robots."""
