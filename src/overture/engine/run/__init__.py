"""Running a job: a worker claims it under a lease (``worker``), the runner loads its context
tiers (``context``) and runs its steps (``runner``, ``invoke``), each step's record is committed
with the job's advance (``checkpoint``), approval gates pause it (``approval_gates``), and the
effects it queued are carried out after commit (``outbox``)."""
