"""Deterministic synthetic demo raw data (fictional medicines, sites, pharmacovigilance)."""
