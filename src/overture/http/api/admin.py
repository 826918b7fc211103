"""Tenancy over HTTP: admin tokens add orgs and users; any token may read its own org."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path

from overture.http.api.models import ID_PATTERN, Org, OrgIn, OrgList, User, UserIn
from overture.http.auth import AppDep, Auth
from overture.http.bodies import LimitedJsonRoute, require_json
from overture.http.problem import problems
from overture.storage.queries import tenancy

router = APIRouter(prefix="/v1", tags=["admin"], route_class=LimitedJsonRoute)

OrgId = Annotated[str, Path(pattern=ID_PATTERN, description="An org id.")]
JsonBody = Annotated[None, Depends(require_json)]


def _org(row: tenancy.OrgRow) -> dict[str, Any]:
    return {"id": row.id, "name": row.name, "created_at": row.created_at}


@router.get("/orgs", response_model=OrgList, responses=problems(401))
def list_orgs(principal: Auth, app: AppDep) -> dict[str, Any]:
    """Every org for an admin token; the token's own org otherwise."""
    own = principal.org_filter(None)
    with app.store.read() as conn:
        rows = tenancy.list_orgs(conn) if own is None else [r for r in [tenancy.get_org(conn, own)] if r]
    return {"items": [_org(r) for r in rows]}


@router.post(
    "/orgs", status_code=201, response_model=Org, responses=problems(400, 401, 403, 409, 413, 415, 422)
)
def add_org(body: OrgIn, principal: Auth, _json: JsonBody, app: AppDep) -> dict[str, Any]:
    """Add an organisation (admin tokens only)."""
    principal.require_admin()
    return _org(app.admin.add_org(body.id, body.name, body.profile))


@router.post(
    "/orgs/{org_id}/users",
    status_code=201,
    response_model=User,
    responses=problems(400, 401, 403, 404, 409, 413, 415, 422),
)
def add_user(org_id: OrgId, body: UserIn, principal: Auth, _json: JsonBody, app: AppDep) -> dict[str, Any]:
    """Add a user to an organisation (admin tokens only)."""
    principal.require_admin()
    row = app.admin.add_user(
        org_id,
        body.id,
        body.name,
        timezone=body.timezone,
        active_hours=body.active_hours,
        workdays=body.workdays,
        max_notifications_per_hour=body.max_notifications_per_hour,
        email=body.email,
        slack_user_id=body.slack_user_id,
        role=body.role,
    )
    return {
        "id": row.id,
        "org_id": row.org_id,
        "name": row.name,
        "timezone": row.timezone,
        "active_hours": row.active_hours,
        "workdays": row.workdays,
        "role": row.role,
        "created_at": row.created_at,
    }
