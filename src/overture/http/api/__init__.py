"""The JSON API under ``/v1``: events, jobs and approvals (``v1``), tenancy admin (``admin``),
and the pydantic models that document both (``models``)."""
