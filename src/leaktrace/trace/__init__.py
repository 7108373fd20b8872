"""Trace a leak to its recipient: marks in shared copies and the accusation that reads them."""
