"""Reading a user function: its source and positions, what each name and call refers to,
and what a derivative was built from (so a cached one can tell it is stale)."""
