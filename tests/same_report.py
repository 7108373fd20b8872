"""One comparison for two verifications that must agree (engines, master sources)."""

from __future__ import annotations

from leaktrace.verify import VerifyReport


def assert_same_report(a: VerifyReport, b: VerifyReport, *differ: str) -> None:
    """The same links and the same report, but for the timings, the evidence trail (its times
    and parameters differ) and the ``differ`` fields."""
    assert a.matches is not None and b.matches is not None
    assert a.matches.sort("rid").equals(b.matches.sort("rid"))
    da, db = a.to_dict(), b.to_dict()
    for d in (da, db):
        for key in ("seconds", "evidence", *differ):
            d.pop(key)
    assert da == db
