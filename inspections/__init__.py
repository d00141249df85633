"""Doing the check and what follows from it: answers, scoring, reports and trends."""
