"""Pages that gather from everywhere: the home page, the workshop page, the plant dashboard, the group page and an
inspection's history. They stand above what they gather (inspections, actions, red tags, plans, quality, reports)."""
