"""People and permissions: plants, workshops, users, roles, scopes and API tokens."""
