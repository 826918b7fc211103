"""An event is validated once on its way in: the storability walk and the model check run one
time per event, whether it comes by `POST /v1/events` or inside a webhook, and nothing checks
it again when it is ingested."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest

from overture.app import App
from overture.core import events as event_parsing
from overture.core.events import EventIn
from tests.conftest import event
from tests.integration.test_http_api import in_process, issue


def count_event_checks(monkeypatch: pytest.MonkeyPatch) -> Counter[str]:
    """From now on, how many times each check runs on an event."""
    seen: Counter[str] = Counter()
    storable = event_parsing.check_storable
    validate = EventIn.model_validate.__func__  # type: ignore[attr-defined]

    def counted_storable(value: Any, root: str = "body") -> None:
        seen[f"storable:{root}"] += 1
        storable(value, root)

    def counted_validate(cls: type[EventIn], data: Any, **kwargs: Any) -> EventIn:
        seen["model"] += 1
        return validate(cls, data, **kwargs)  # type: ignore[no-any-return]

    monkeypatch.setattr(event_parsing, "check_storable", counted_storable)
    monkeypatch.setattr(EventIn, "model_validate", classmethod(counted_validate))
    return seen


@pytest.fixture
def checks(monkeypatch: pytest.MonkeyPatch) -> Counter[str]:
    return count_event_checks(monkeypatch)


def test_an_event_sent_to_the_api_is_validated_once(app: App, checks: Counter[str]) -> None:
    headers = issue(app, "acme", "ana")
    with in_process(app) as api:
        for n in range(3):
            sent = api.post("/v1/events", json=event("five_steps", {"n": n}), headers=headers)
            assert sent.status_code == 202 and sent.json()["status"] == "accepted", sent.text
    assert checks == {"storable:event": 3, "model": 3}
