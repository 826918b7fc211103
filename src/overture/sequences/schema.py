"""The sequence format as data: every section, key, type, default, range and choice.

The loader's checks (``checks``) take their keys, choices, ranges, patterns and defaults from
here, and ``reference`` renders the same objects as docs/reference/sequences.md, so the
reference cannot say something the loader does not do.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from overture.sequences.model import ApprovalSpec, DedupeSpec, FailurePolicy, RetryPolicy, StepKind

_RETRY = RetryPolicy()
_EXPIRES = ApprovalSpec("draft").expires
_WINDOW = DedupeSpec(()).window

#: The default of a key that must be given.
REQUIRED: Any = object()


@dataclass(frozen=True)
class Pattern:
    """A regular expression a string must match in full, and how to say what it wants."""

    regex: re.Pattern[str]
    wanted: str


@dataclass(frozen=True)
class Key:
    """One key of a mapping in a sequence file."""

    name: str
    type: str
    doc: str
    default: Any = None
    choices: tuple[str, ...] = ()
    low: float | None = None
    high: float | None = None
    pattern: Pattern | None = None
    default_doc: str | None = None

    @property
    def required(self) -> bool:
        return self.default is REQUIRED


@dataclass(frozen=True)
class Section:
    """A mapping of a sequence file: where it sits and the keys it takes."""

    title: str
    where: str
    doc: str
    keys: tuple[Key, ...]

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(key.name for key in self.keys)

    def __getitem__(self, name: str) -> Key:
        for key in self.keys:
            if key.name == name:
                return key
        raise KeyError(name)


EVENT_TYPE = Pattern(
    re.compile(r"[a-z][a-z0-9_]*"), "event type (lowercase letters, digits and _, starting with a letter)"
)
STEP_NAME = Pattern(re.compile(r"[a-z0-9][a-z0-9_-]*"), "step name (a-z, 0-9, - and _)")
FIELD_PATH = Pattern(re.compile(r"[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*"), "field path such as thread.id")
SOURCE_NAME = Pattern(re.compile(r"[a-z0-9][a-z0-9_-]*"), "context source name (a-z, 0-9, - and _)")
TARGET = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.:/-]*")
APPROVAL_PATTERNS = ("draft", "confirm", "select")

#: What each ``uses`` form calls, in the order the reference lists them.
USES: dict[StepKind, tuple[str, str]] = {
    StepKind.SKILL: ("skill:KEY", "a skill a pack registered (Python or SKILL.md)"),
    StepKind.FUNCTION: ("function:NAME", "an adapter function a pack registered"),
    StepKind.CRM: ("crm:ACTION", "a CRM action a pack registered"),
    StepKind.NOTIFY: ("notify", "tell the user `with.text` through their delivery channel; no target"),
    StepKind.FOLLOWUP: (
        "followup",
        "queue the event `with.type` (payload `with.payload`, optional `with.not_before`) as a child job",
    ),
}

SEQUENCE = Section(
    "Sequence",
    "the top level of the file",
    "One file per event type in a pack's `sequences/` folder, named after the event type.",
    (
        Key(
            "event_type",
            "string",
            "The event type this sequence handles; must equal the file name without `.yaml`.",
            REQUIRED,
            pattern=EVENT_TYPE,
        ),
        Key("description", "string", "What the sequence is for, shown to operators.", ""),
        Key(
            "active_hours",
            "choice",
            "Outside the user's active hours: `defer` holds the job until they begin, "
            "`ignore` runs it at once.",
            "defer",
            choices=("defer", "ignore"),
        ),
        Key(
            "dedupe",
            "mapping (Dedupe)",
            "Which payload fields make two events the same; a repeat inside the window is "
            "recorded as a duplicate and runs nothing.",
            default_doc="none (an event's own idempotency key still counts)",
        ),
        Key(
            "payload",
            "mapping of field: type",
            "The payload fields the steps need, each a dotted path mapped to `string`, `integer`, "
            "`number`, `boolean`, `list`, `mapping` or `any` (required), or to "
            "`{type: ..., required: false}`; an event missing one is refused at ingest with a 422 "
            "naming the field.",
            default_doc="none (any payload is accepted)",
        ),
        Key("steps", "list of Step", "The steps, run in order; at least one.", REQUIRED),
    ),
)

STEP = Section(
    "Step",
    "each item of `steps`",
    "One unit of work, recorded durably before the next one starts.",
    (
        Key(
            "name",
            "string",
            "Unique in the sequence; later steps read this step's output as `outputs.NAME` "
            "(`outputs['NAME']` when it has a `-`).",
            REQUIRED,
            pattern=STEP_NAME,
        ),
        Key("uses", "string", "What the step runs; see *The `uses` forms* below.", REQUIRED),
        Key(
            "with",
            "mapping",
            "The step's inputs. Strings may be templates (`{{ ... }}`) over `event`, `context` and "
            "`outputs`; a string that is one `{{ expression }}` keeps the value's type.",
            default_doc="`{}`",
        ),
        Key(
            "when",
            "expression",
            "Run the step only when this is true; anything missing counts as false. "
            "A skipped step is recorded as skipped.",
            default_doc="always run",
        ),
        Key(
            "ai",
            "bool",
            "The step spends AI budget: checked before it runs; a spent budget halts the job.",
            False,
        ),
        Key(
            "on_failure",
            "choice",
            "After a failed attempt: `stop` fails the job, `continue` goes on to the next step, "
            "`retry` tries again (see `retry`).",
            FailurePolicy.STOP.value,
            choices=tuple(p.value for p in FailurePolicy),
        ),
        Key(
            "retry",
            "mapping (Retry)",
            "How often and how patiently to retry; only with `on_failure: retry`.",
            default_doc="1 attempt, 10s backoff",
        ),
        Key("timeout", "duration", "Fail the attempt when the step runs longer.", default_doc="no limit"),
        Key(
            "requires_context",
            "list of strings",
            "Tier-3 context sources to load before the step (named by the packs' providers); "
            "an unavailable source is audited and the step still runs.",
            default_doc="`[]`",
            pattern=SOURCE_NAME,
        ),
        Key(
            "effect",
            "bool",
            "Declares that the step acts on the world (shown to operators; effects themselves are "
            "queued by the handler with `ctx.effect`).",
            default_doc="true for `crm:` and `notify` steps, else false",
        ),
        Key(
            "approval",
            "mapping (Approval)",
            "Pause for a person before the step runs; not on `notify` or `followup` steps.",
            default_doc="none",
        ),
    ),
)

RETRY = Section(
    "Retry",
    "a step's `retry`",
    "Wait `backoff * factor ** (failed attempts - 1)`, capped at `max_backoff`, between tries.",
    (
        Key("attempts", "integer", "Retries after the first failure.", _RETRY.attempts, low=0, high=10),
        Key("backoff", "duration", "Wait before the first retry (0 allowed).", _RETRY.backoff),
        Key(
            "factor", "number", "Each further wait is this many times longer.", _RETRY.factor, low=1, high=10
        ),
        Key(
            "max_backoff",
            "duration",
            "The longest wait; not shorter than `backoff`.",
            _RETRY.max_backoff,
        ),
    ),
)

APPROVAL = Section(
    "Approval",
    "a step's `approval`",
    "The step's rendered `with` becomes a pending action; the job waits in `awaiting_approval` "
    "until a person approves, edits, skips or cancels it, or it expires.",
    (
        Key(
            "pattern",
            "choice",
            "`draft`: approve or edit a draft (an email); `confirm`: yes or no to a change "
            "(a deal stage); `select`: pick among `with.options`. `inform` is not an approval: "
            "use a `notify` step.",
            REQUIRED,
            choices=APPROVAL_PATTERNS,
        ),
        Key(
            "expires",
            "duration",
            "Unanswered for this long, the action expires.",
            _EXPIRES,
        ),
        Key(
            "title",
            "template",
            "The action's title in the inbox and on Slack.",
            default_doc="the step's name",
        ),
    ),
)

DEDUPE = Section(
    "Dedupe",
    "the sequence's `dedupe`",
    "Two events of this type whose listed payload fields are equal within the window are one.",
    (
        Key(
            "fields",
            "list of strings",
            "Payload field paths such as `thread.id`; at least one.",
            REQUIRED,
            pattern=FIELD_PATH,
        ),
        Key(
            "window",
            "duration",
            "How long an event counts as seen.",
            _WINDOW,
        ),
    ),
)

SECTIONS = (SEQUENCE, STEP, RETRY, APPROVAL, DEDUPE)
