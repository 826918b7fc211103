"""Webhook receipts over HTTP: an org admin replays a MeetingBaaS meeting that arrived before its
account existed (kept ``unrouted``), as ``overture integrations replay`` does from the shell."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path
from pydantic import BaseModel, Field

from overture.app import App
from overture.engine.admin.tokens import Principal
from overture.errors import Forbidden
from overture.http.api.models import ID_PATTERN
from overture.http.auth import AppDep, Auth
from overture.http.problem import problems
from overture.http.webhooks.replay import Replays
from overture.storage.queries import tenancy

router = APIRouter(prefix="/v1", tags=["webhooks"])

ReceiptId = Annotated[str, Path(pattern=ID_PATTERN, description="A webhook receipt id.")]


class ReplayOut(BaseModel):
    """What a replay came to. A second replay creates nothing: ``replayed`` is false and
    ``by``/``at`` say who replayed it first and when."""

    receipt_id: str
    replayed: bool
    message: str
    by: str
    at: str
    job_id: str | None = Field(default=None, description="The `meeting_ended` job, if one was made.")
    event_status: str | None = Field(default=None, description="What ingest said of the event.")


def _scope(principal: Principal, app: App) -> str | None:
    """The org whose receipts the token may replay (None: any), or ``Forbidden``."""
    if principal.is_admin:
        return None
    if principal.user_id is not None and principal.org_id is not None:
        with app.store.read() as conn:
            user = tenancy.get_user(conn, principal.user_id, principal.org_id)
        if user is not None and user.role == "admin":
            return principal.org_id
    raise Forbidden("replaying a webhook receipt needs an admin token or an org admin's token")


@router.post(
    "/webhook-receipts/{receipt_id}/replay",
    response_model=ReplayOut,
    summary="Replay an unrouted MeetingBaaS receipt",
    responses=problems(401, 403, 404, 409, 422),
)
def replay_receipt(receipt_id: ReceiptId, principal: Auth, app: AppDep) -> dict[str, Any]:
    """Turn a meeting kept `unrouted` into its one `meeting_ended`, now that the account its bot's
    `extra` names exists (and belongs to the token's org). 409 if the receipt is not unrouted;
    404 if it is unknown, another org's, or still routes to no account."""
    org = _scope(principal, app)
    by = f"{principal.user_id} via api" if principal.user_id else "admin token via api"
    return Replays(app).replay(receipt_id, by, org_id=org).as_dict()
