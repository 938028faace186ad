"""Forward (jvp) rules of the primals whose reverse rules live in `math_rules.py`."""
