"""AST plumbing that knows nothing of derivatives: fast walkers and transformers, unparsing,
which names statements read and write, deterministic names, constant folding, code templates."""
