"""Demo data for `make run`: the standard checklist, a group of plants with months of inspections, and a large
group for the benchmarks."""
