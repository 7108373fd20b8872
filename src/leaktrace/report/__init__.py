"""Rendering of results for people, in Chinese or English: terminal summaries and self-contained
HTML reports of scans and verifications."""
