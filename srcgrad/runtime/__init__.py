"""Everything generated derivative code calls at run time (and nothing else does): broadcasting,
cotangent containers, pytrees, guards, the functional forms of NumPy's writing calls."""
