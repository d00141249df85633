"""Print side of inspections: SVG charts, PDF rendering, restricted resource fetching."""
