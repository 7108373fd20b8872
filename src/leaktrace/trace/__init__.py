"""Trace: who received what, and who leaked it, with a stated chance of accusing an innocent."""
