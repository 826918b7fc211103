"""The tables, one module per owner: the orchestrator's own, the console's, the sales CRM's,
and the integrations'. Importing this package registers all of them on ``metadata``, so
migrations and tests that read ``metadata`` see every table."""

from overture.storage.tables import console, crm, integrations, orchestrator
from overture.storage.tables.base import metadata

__all__ = ["console", "crm", "integrations", "metadata", "orchestrator"]
