"""What an operator watches: traces (``tracing``), log lines (``logs``) and the
Prometheus metrics (``metrics``, filled by ``readings`` from the database).

``setup`` applies the settings to the process once, when a command builds its App: the log
format, and tracing when a collector is configured. Nothing here is imported by the engine
but ``tracing``, whose hooks cost next to nothing while tracing is off.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from overture.settings import Settings


def setup(settings: Settings) -> None:
    """Format log lines as ``settings.log_format``, log Overture's at ``settings.log_level`` when
    it is set (``OVERTURE_LOG_LEVEL=INFO`` shows job activity), and export traces to
    ``settings.otlp_endpoint`` when that is set."""
    from overture.observability import logs, tracing

    explicit = "log_level" in settings.model_fields_set
    logs.configure(settings.log_format, settings.log_level if explicit else None)
    tracing.configure_from(settings)
