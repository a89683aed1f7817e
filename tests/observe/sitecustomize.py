"""Test-only observation of a crawl process, loaded by Python at start-up when this folder is on
PYTHONPATH and PROVNEWS_OBSERVE_OUT names a file (tests/test_crawl_storage.py sets both).

Counts, through public hooks and nothing replaced: the SQLAlchemy connection pools that made their
first connection (PoolEvents.first_connect, once per engine: one per Storage opened and used), and the
opens of the registry files PROVNEWS_OBSERVE_REGISTRY (os.pathsep-separated; a Python audit hook on
"open"). Each process started (the crawl, and the worker processes it starts) appends one JSON line to
PROVNEWS_OBSERVE_OUT when it exits."""

from __future__ import annotations

import atexit
import json
import multiprocessing
import os
import sys
from pathlib import Path
from typing import Any

OUT = os.environ.get("PROVNEWS_OBSERVE_OUT")

if OUT:
    from sqlalchemy import event
    from sqlalchemy.pool import Pool

    counts = {"engines": 0, "registry_reads": 0}
    registries = os.environ.get("PROVNEWS_OBSERVE_REGISTRY", "").split(os.pathsep)
    registry_paths = {str(Path(path).resolve()) for path in registries if path}

    @event.listens_for(Pool, "first_connect")
    def _engine_connected(dbapi_connection: Any, record: Any) -> None:
        counts["engines"] += 1

    def _audit(name: str, args: tuple[Any, ...]) -> None:
        if name == "open" and registry_paths and isinstance(args[0], (str, os.PathLike)):
            try:
                if str(Path(args[0]).resolve()) in registry_paths:
                    counts["registry_reads"] += 1
            except OSError:
                pass

    sys.addaudithook(_audit)
    started_as = os.getpid()

    def _write() -> None:
        if os.getpid() != started_as:  # a forked child: its parent writes the counts
            return
        with open(OUT, "a", encoding="utf-8") as out:
            worker = multiprocessing.parent_process() is not None  # (spawned with its parent's argv)
            out.write(json.dumps({"argv": sys.argv, "worker": worker, **counts}) + "\n")

    atexit.register(_write)
