"""A long-running process's heap, settled once it has started.

Everything a server or worker loads to start (the framework, the routes, SQLAlchemy's tables,
the packs, the templates) lives as long as the process; left to the garbage collector, every
full collection walks all of it again, and here that stopped the process for 90 to 135 ms at a
time, several times a minute under load: that was `POST /v1/events`'s p99. Frozen after start
(``gc.freeze``), a full collection walks only what was made since.
"""

from __future__ import annotations

import gc


def settle() -> None:
    """Collect what starting left behind, then keep the rest out of later collections."""
    gc.collect()
    gc.freeze()
