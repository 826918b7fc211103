"""``overture serve --reload``: packs loaded again when their files change, for working on one.

A thread watches the folders of the packs that are not built in. After a change settles, every
pack is loaded again; when they are all valid they replace the running ones (the next step a
worker runs uses them), otherwise each problem is printed as ``packs validate`` prints it and the
running packs stay. Schedules are read at start only.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from overture.app import App
from overture.engine.packs import PackInvalid, reload_packs, user_pack_folders

log = logging.getLogger("overture.reload")


@dataclass(frozen=True)
class Reloaded:
    """One reload: the files that changed, and the problems that kept the old packs (if any)."""

    changed: tuple[Path, ...]
    problems: tuple[str, ...]

    @property
    def ok(self) -> bool:
        return not self.problems


def _wanted(_change: object, path: str) -> bool:
    name = Path(path).name
    return "__pycache__" not in path and not name.startswith(".") and not name.endswith((".pyc", "~"))


class PackReloader:
    """Watches the user packs' folders and reloads them into ``app.registry``."""

    def __init__(self, app: App, on_reload: Callable[[Reloaded], None] | None = None) -> None:
        self.app = app
        self.folders = user_pack_folders(list(app.settings.packs))
        self.on_reload = on_reload
        self._stop = threading.Event()
        self._ready = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Start watching; returns once the watch is in place, so no change is missed."""
        if not self.folders:
            return
        self._thread = threading.Thread(target=self._watch, name="pack-reload", daemon=True)
        self._thread.start()
        self._ready.wait()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(5)

    def reload(self, changed: tuple[Path, ...]) -> Reloaded:
        try:
            reload_packs(self.app.registry, list(self.app.settings.packs), self.app.settings)
            result = Reloaded(changed, ())
        except PackInvalid as exc:
            result = Reloaded(changed, tuple(str(e) for e in exc.errors))
        except Exception as exc:  # a pack's code may raise anything; the service keeps running
            result = Reloaded(changed, (f"{type(exc).__name__}: {exc}",))
        if result.ok:
            log.info("packs reloaded after %d changed file(s)", len(changed))
        else:
            log.warning("packs not reloaded: %d problem(s); the running packs stay", len(result.problems))
        return result

    def _watch(self) -> None:
        from watchfiles import watch

        changes = watch(
            *self.folders,
            watch_filter=_wanted,
            stop_event=self._stop,
            yield_on_timeout=True,
            rust_timeout=200,
        )
        for batch in changes:
            self._ready.set()
            if not batch:
                continue
            result = self.reload(tuple(sorted({Path(p) for _c, p in batch})))
            if self.on_reload is not None:
                self.on_reload(result)
        self._ready.set()
