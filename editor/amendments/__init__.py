"""Amendments tabled in an amendments stage (the assembly): states, votes, conflicts, adoption."""
