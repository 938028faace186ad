"""Forward (jvp) rules of the primals whose reverse rules live in `reduction_rules.py`."""
