"""HTTP clients for the tier-3 sources: Apollo people enrichment, Apify actors run synchronously
(LinkedIn profiles, company news) and Instantly campaign analytics (set up as
docs/integrations/apollo.md, docs/integrations/apify.md and docs/integrations/instantly.md say).

Each call is one bounded request through ``overture.integrations.apis`` (a 429 is
``RateLimited``, anything else that goes wrong is ``ApiError``); a source without a key raises
``SourceNotConfigured`` before any network traffic. The context loader records either as the
source being unavailable, and the step goes on without it.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import httpx

from overture.errors import OvertureError
from overture.integrations.apis import ApiError, check_response, make_client, request_json
from overture.packs.sales.config import SalesConfig


class SourceNotConfigured(OvertureError):
    """This context source has no key or endpoint configured."""


def _client(base_url: str, timeout_s: float, **kwargs: Any) -> httpx.Client:
    return make_client(base_url, timeout=httpx.Timeout(timeout_s, connect=min(5.0, timeout_s)), **kwargs)


def apollo_match(config: SalesConfig, person: dict[str, Any]) -> dict[str, Any] | None:
    """``POST /api/v1/people/match``: the person Apollo knows by email (or name and domain);
    None when Apollo has no match (it answers 200 with ``person: null``)."""
    if not config.apollo_api_key:
        raise SourceNotConfigured("apollo: OVERTURE_APOLLO_API_KEY is not set")
    headers = {"x-api-key": config.apollo_api_key, "Cache-Control": "no-cache"}
    body = {k: v for k, v in person.items() if k in ("email", "name", "domain", "organization_name") and v}
    with _client(config.apollo_base_url, config.source_timeout_s, headers=headers) as client:
        answer = request_json(client, "POST", "/api/v1/people/match", service="apollo", json=body)
    found = answer.get("person")
    return found if isinstance(found, dict) else None


def apify_run(
    config: SalesConfig, actor: str | None, actor_input: dict[str, Any], limit: int = 10
) -> list[Any]:
    """``POST /v2/acts/{actor}/run-sync-get-dataset-items``: run an actor and return its items.
    Apify answers 408 when the run outlasts its 300 s limit; our own timeout is far shorter."""
    if not config.apify_token:
        raise SourceNotConfigured("apify: OVERTURE_APIFY_TOKEN is not set")
    if not actor:
        raise SourceNotConfigured("apify: no actor is configured for this source")
    path = f"/v2/acts/{quote(actor, safe='~')}/run-sync-get-dataset-items"
    params = {"limit": str(limit), "timeout": str(int(config.source_timeout_s))}
    with _client(config.apify_base_url, config.source_timeout_s, token=config.apify_token) as client:
        try:
            response = client.post(path, params=params, json=actor_input)
        except httpx.HTTPError as exc:
            raise ApiError("apify", f"{type(exc).__name__}: {exc}") from exc
        check_response(response, "apify")
        try:
            items = response.json()
        except ValueError as exc:
            raise ApiError("apify", "the answer is not JSON", status=response.status_code) from exc
    if not isinstance(items, list):
        raise ApiError("apify", "the answer is not a list of dataset items", status=response.status_code)
    return items[:limit]


def instantly_analytics(config: SalesConfig) -> list[dict[str, Any]]:
    """``GET /api/v2/campaigns/analytics``: every campaign's counters."""
    if not config.instantly_api_key:
        raise SourceNotConfigured("instantly: OVERTURE_INSTANTLY_API_KEY is not set")
    with _client(
        config.instantly_base_url, config.source_timeout_s, token=config.instantly_api_key
    ) as client:
        try:
            response = client.get("/api/v2/campaigns/analytics")
        except httpx.HTTPError as exc:
            raise ApiError("instantly", f"{type(exc).__name__}: {exc}") from exc
        check_response(response, "instantly")
        try:
            body = response.json()
        except ValueError as exc:
            raise ApiError("instantly", "the answer is not JSON", status=response.status_code) from exc
    items = body.get("items", body.get("data")) if isinstance(body, dict) else body
    if not isinstance(items, list):
        raise ApiError("instantly", "the answer holds no list of campaigns", status=response.status_code)
    return [item for item in items if isinstance(item, dict)]
