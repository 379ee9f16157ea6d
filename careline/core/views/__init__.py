"""Pages of core: the health check (health.py) and the audit trail (audit.py)."""
