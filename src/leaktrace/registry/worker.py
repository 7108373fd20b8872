"""The service's background loop: every few seconds it announces deadlines coming near or passed,
hands committed events to webhooks, and delivers what is due. A failed round is logged by the
kind of its error alone (a database error's text can quote stored values) and the loop goes on.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from dataclasses import dataclass

import httpx
import sqlalchemy as sa

from leaktrace.i18n import _
from leaktrace.registry import outbox
from leaktrace.registry.models import utcnow

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Round:
    """What one round did: events written for deadlines, deliveries made, tries sent."""

    deadline_events: int
    deliveries: int
    tries: int


class Worker:
    """A thread running :meth:`run_once` every ``interval`` seconds until :meth:`stop`."""

    def __init__(
        self,
        engine: sa.Engine,
        interval: float = 2.0,
        client: httpx.Client | None = None,
        allow_private: bool | None = None,
    ) -> None:
        self.engine = engine
        self.interval = interval
        self.allow_private = allow_private
        self._own_client = client is None
        self.client = client or httpx.Client(timeout=outbox.TIMEOUT, follow_redirects=False)
        self._stopping = threading.Event()
        self._thread = threading.Thread(
            target=self._loop, name="leaktrace-registry-worker", daemon=True
        )

    def run_once(self, now: dt.datetime) -> Round:
        """One round at ``now``: deadlines, then dispatch, then deliveries."""
        return Round(
            deadline_events=outbox.scan_deadlines(self.engine, now),
            deliveries=outbox.dispatch(self.engine, now),
            tries=outbox.deliver_due(self.engine, self.client, now, self.allow_private),
        )

    def _loop(self) -> None:
        while not self._stopping.is_set():
            try:
                self.run_once(utcnow())
            except Exception as e:  # the loop outlives any one round
                log.error(
                    _("registry worker: a round failed ({kind}); the next one goes on").format(
                        kind=type(e).__name__
                    )
                )
            self._stopping.wait(self.interval)

    def start(self) -> None:
        """Start the loop in its thread."""
        self._thread.start()

    def stop(self, timeout: float | None = None) -> None:
        """Ask the loop to end after its current round, wait for it, close its own client."""
        self._stopping.set()
        if self._thread.is_alive():
            self._thread.join(timeout)
        if self._own_client:
            self.client.close()
