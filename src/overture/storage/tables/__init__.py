"""The tables, one module per owner: the orchestrator's own, the console's, the sales CRM's,
the integrations', and the console's skill sessions. Importing this package registers all of
them on ``metadata``, so migrations and tests that read ``metadata`` see every table."""

from overture.storage.tables import console, crm, integrations, orchestrator, skill_sessions
from overture.storage.tables.base import metadata

__all__ = ["console", "crm", "integrations", "metadata", "orchestrator", "skill_sessions"]
