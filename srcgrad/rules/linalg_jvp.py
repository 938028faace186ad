"""Forward (jvp) rules of the primals whose reverse rules live in `linalg_rules.py`."""
