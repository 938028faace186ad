"""Forward (jvp) rules of the primals whose reverse rules live in `builtin_rules.py`."""
