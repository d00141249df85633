"""Inspection plans: the 6S programme (who inspects which workshop, how often, within what window)."""
