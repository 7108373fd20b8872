"""Rendering of results for people: terminal summaries (and, later, HTML)."""
