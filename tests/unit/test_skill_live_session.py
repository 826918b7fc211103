"""The browser's side of a session (no HTTP): entries in order, a question waiting for an
answer posted later, an empty answer taking the offered one, and cancel or end failing the
waiting question as Ctrl-C or Ctrl-D does in the terminal."""

from __future__ import annotations

import asyncio

import pytest

from overture.skills.session.conversation import Question, SessionCancelled, SessionEnded
from overture.skills.session.live import LiveConversation

QUESTION = Question("meetings", "Still happening?", "keep")


def test_a_question_waits_for_its_answer_and_entries_grow_in_order() -> None:
    async def scenario() -> tuple[str, list[tuple[str, str]]]:
        live = LiveConversation()
        await live.say("Loading context")
        asking = asyncio.create_task(live.ask(QUESTION))
        seen = await live.after(1)
        assert [e.kind for e in seen] == ["ask"] and live.question == QUESTION
        assert live.answer("") and not live.answer("again")
        got = await asking
        live.close("Session over")
        return got, [(e.kind, e.text) for e in await live.after(0)]

    got, entries = asyncio.run(scenario())
    assert got == "keep"
    assert entries == [
        ("say", "Loading context"),
        ("ask", "Still happening?"),
        ("answer", "keep"),
        ("done", "Session over"),
    ]


@pytest.mark.parametrize(("stop", "error"), [("cancel", SessionCancelled), ("end", SessionEnded)])
def test_cancel_and_end_fail_the_waiting_question_or_the_next(stop: str, error: type[Exception]) -> None:
    async def waiting() -> None:
        live = LiveConversation()
        asking = asyncio.create_task(live.ask(QUESTION))
        await live.after(0)
        getattr(live, stop)()
        with pytest.raises(error):
            await asking

    async def before() -> None:
        live = LiveConversation()
        getattr(live, stop)()
        with pytest.raises(error):
            await live.ask(QUESTION)

    asyncio.run(waiting())
    asyncio.run(before())
