"""The JSON API under ``/v1``: events, jobs and approvals (``v1``), tenancy admin (``admin``),
replaying webhook receipts (``receipts``), and the pydantic models that document them
(``models``)."""
