"""Forward (jvp) rules of the primals whose reverse rules live in `numpy_rules.py`."""
