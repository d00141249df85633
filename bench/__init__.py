"""Benchmarks (`make bench`): each figure printed beside its baseline. Not run by the test suite."""
