"""What every sales skill shares: the model, the configuration, and small readers of the step's
context (the CRM session, tier-2 records, the rep and their time zone).

The CRM session arrives as the tier-3 source ``crm``: a step that reads or writes the CRM says
so with ``requires_context: [crm]``, and the loader hands it the App's store, scoped to the org.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from pydantic import BaseModel

from overture.core.step_context import StepContext
from overture.errors import StepError
from overture.llm.base import LLMProvider, LLMRequest
from overture.llm.factory import ask
from overture.packs.sales.config import SalesConfig
from overture.packs.sales.crm.queries import Crm

T = TypeVar("T", bound=BaseModel)


@dataclass(frozen=True)
class Kit:
    """The pack's dependencies, bound once at registration."""

    llm: LLMProvider
    config: SalesConfig
    outbox_dir: Path

    def ask(
        self,
        ctx: StepContext,
        task: str,
        instructions: str,
        data: dict[str, Any],
        schema: type[T],
        check: Callable[[T, dict[str, Any]], Sequence[str]] | None = None,
    ) -> T:
        """One structured model call, its cost recorded on the step; ``check`` holds the answer to
        the input beyond its schema (a failing answer gets the provider's one corrective retry)."""
        request = LLMRequest(task=task, instructions=instructions, input=data, schema=schema, check=check)
        return ask(ctx, self.llm, request)


def crm(ctx: StepContext) -> Crm:
    """The org's CRM, loaded for this step as the tier-3 source ``crm``."""
    handle = (ctx.context.get("tier3") or {}).get("crm")
    if not isinstance(handle, Crm):
        raise StepError(f"step {ctx.step_name} reads the CRM but does not declare requires_context: [crm]")
    return handle


def tier2(ctx: StepContext, name: str) -> Any:
    """A tier-2 record (None when the event named no contact, deal or meeting, or it failed)."""
    return (ctx.context.get("tier2") or {}).get(name)


def tier3(ctx: StepContext, name: str) -> Any:
    return (ctx.context.get("tier3") or {}).get(name)


def rep(ctx: StepContext) -> dict[str, Any]:
    """The job's user, as tier 1 describes them."""
    return dict((ctx.context.get("tier1") or {}).get("user") or {"id": ctx.user_id, "name": ctx.user_id})


def zone(ctx: StepContext) -> ZoneInfo:
    return ZoneInfo(str(rep(ctx).get("timezone") or "UTC"))


def local(moment: datetime | str, where: ZoneInfo) -> datetime:
    value = datetime.fromisoformat(moment) if isinstance(moment, str) else moment
    return value.astimezone(where)


def local_day(moment: datetime | str, where: ZoneInfo) -> date:
    return local(moment, where).date()


def rep_names(session: Crm) -> list[str]:
    """Names the recorder may attribute the org's side of a call to."""
    return [u["name"] for u in session.users()]


def days_between(earlier: datetime | str | None, later: datetime) -> int | None:
    if earlier is None:
        return None
    value = datetime.fromisoformat(earlier) if isinstance(earlier, str) else earlier
    return max(0, (later - value).days)


def money(cents: int | None) -> str:
    return f"${int(cents or 0) // 100:,}"
