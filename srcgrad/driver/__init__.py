"""Caches and dispatch: each derivative built once per function and request; run-time callees."""
