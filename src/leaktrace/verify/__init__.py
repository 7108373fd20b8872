"""Verification of a leak: record linkage against master data, per-field agreement, snapshot
dating, forgery signals and a verdict with confidence (see DESIGN.md, issue 4)."""

from leaktrace.verify.api import verify
from leaktrace.verify.result import VerifyReport
from leaktrace.verify.verdict import Label, Verdict

__all__ = ["Label", "Verdict", "VerifyReport", "verify"]
