"""Clean-ups of generated code, each switchable (`optimize=`): peephole and dead code, float
algebra, fusion, array bookkeeping, in-place accumulation."""
