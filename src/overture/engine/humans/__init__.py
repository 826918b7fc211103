"""People in the loop: deciding and expiring pending actions (``approvals``), the one path
every message to a person takes, on their hours and limits (``delivery``), and the reminder
before an action expires (``reminders``)."""
