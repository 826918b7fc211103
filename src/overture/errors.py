"""Every error Overture raises on purpose; each docstring is its default message."""

from __future__ import annotations


class OvertureError(Exception):
    """Overture failed."""

    def __init__(self, message: str | None = None) -> None:
        super().__init__(message or (self.__doc__ or "").strip())


class ValidationFailed(OvertureError):
    """The input is not valid."""


class FieldsInvalid(ValidationFailed):
    """Some fields are not valid; ``problems`` says which and why (the API lists them)."""

    def __init__(self, problems: list[tuple[str, str]]) -> None:
        self.problems = list(problems)  # (location such as payload.meeting_id, message)
        super().__init__("; ".join(f"{where}: {message}" for where, message in self.problems))


class PayloadInvalid(FieldsInvalid):
    """The event's payload lacks a field its sequence needs."""


class NotFound(OvertureError):
    """No such object."""


class Conflict(OvertureError):
    """The object is not in a state that allows this."""


class Forbidden(OvertureError):
    """Not allowed."""


class InvalidToken(OvertureError):
    """The bearer token is missing, malformed, unknown or revoked."""


class SequenceFileError(ValidationFailed):
    """A sequence file is invalid."""

    def __init__(self, path: str, line: int | None, field: str, problem: str) -> None:
        self.path = path
        self.line = line
        self.field = field
        self.problem = problem
        where = f"{path}:{line}" if line is not None else path
        super().__init__(f"{where}: {field}: {problem}")


class PolicyViolation(OvertureError):
    """This action needs a person's approval, and no setting or preference can waive that."""


class StepError(OvertureError):
    """A step failed."""


class StepTimeout(StepError):
    """The step ran past its timeout."""


class RateLimited(StepError):
    """An external service said to slow down; the job is deferred, not failed."""

    def __init__(self, message: str | None = None, retry_after_s: float | None = None) -> None:
        super().__init__(message)
        self.retry_after_s = retry_after_s


class BudgetExceeded(OvertureError):
    """The org's AI budget for this period is spent."""


class LeaseLost(OvertureError):
    """Another worker owns this job now; this worker must let go of it."""


class GateAnswered(OvertureError):
    """A pause at an approval gate found an action made there before (a job run again from an
    earlier step): nothing was written, and the gate goes by that action instead."""


class SourceUnavailable(OvertureError):
    """A context source is unavailable."""
