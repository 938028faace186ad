"""Forward (jvp) rules of the primals whose reverse rules live in `container_rules.py`."""
