"""Webhooks in their senders' wire formats: the routes (``routes``), who a request is from and
which account it belongs to (``config``, ``intake``), each receipt recorded with its outcome
(``receipts``), the follow-up work some need (``work``), Slack interactions (``slack``), and
MeetingBaaS meetings (``meetingbaas``), kept ``unrouted`` until ``replay`` can route them."""
