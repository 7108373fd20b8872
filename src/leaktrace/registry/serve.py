"""``leaktrace serve``: migrate the database, start the webhook worker, serve the application."""

from __future__ import annotations

import logging

import uvicorn

from leaktrace.registry import db
from leaktrace.registry.app import create_app
from leaktrace.registry.worker import Worker


def serve(url: str | None, host: str, port: int) -> None:
    """Run the registry until interrupted (Ctrl-C stops the worker, then the server)."""
    engine = db.make_engine(url)
    db.upgrade(engine)
    app = create_app(engine=engine, migrate=False)
    worker = Worker(engine)
    worker.start()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    try:
        uvicorn.run(app, host=host, port=port, log_level="warning", access_log=False)
    finally:
        worker.stop()
        engine.dispose()
