"""Test-wide settings."""

from srcgrad.syntax import usage

# Passes hand each other records of what each statement reads and writes, kept by statement
# identity; in the tests every pass that takes them over checks they still match.
usage.CHECK_RECORDS = True
