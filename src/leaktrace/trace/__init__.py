"""Tracing leaks to their source: canary records, code symbols and accusation."""
