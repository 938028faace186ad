"""Analyses that return data (dicts and sets keyed by name), never writing on AST nodes:
activity, may-alias, liveness, scalars, shapes, shift invariance."""
