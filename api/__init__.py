"""JSON API for integrations and for entering paper audits afterwards (/api/v1). Same rules as the screens."""
