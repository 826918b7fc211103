"""Intake: every way an event gets in, through the gates, to a recorded outcome and a
pending job: events sent by the API and CLI (``ingest``), follow-ups queued by finished steps
(``followups``) and schedule slots that fall due (``scheduler``)."""
