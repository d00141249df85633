"""What to check: versioned checklists, their scoring schemes, import and export."""
