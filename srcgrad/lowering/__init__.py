"""Passes from the user's function to the three-address form the transforms read: everyday
statements, in-place writes, refusals, jumps, normalization, complex values."""
