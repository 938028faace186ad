"""Forward (jvp) rules of the primals whose reverse rules live in `array_rules.py`."""
