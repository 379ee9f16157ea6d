"""Billing pages: the ledger and desk payments (ledger.py), statements (statements.py), the pay page (pay.py)."""
