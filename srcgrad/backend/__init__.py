"""From a finished tree to a live function: the entry form (type guards) and compilation."""
