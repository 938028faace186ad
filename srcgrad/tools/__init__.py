"""What sits on top of the API: the command line, export, the rule reference, test helpers."""
