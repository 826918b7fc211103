"""Offline rules other than commitments: due dates, email classes, objections, action items, templates."""

from __future__ import annotations

from datetime import date

import pytest

from overture.packs.sales.rules.dates import resolve_due
from overture.packs.sales.rules.email import classify_email
from overture.packs.sales.rules.intents import classify_clause
from overture.packs.sales.rules.offline import detect_intents, extract_action_items
from overture.packs.sales.rules.signals import objections
from overture.packs.sales.rules.text import sentences, side_of
from overture.packs.sales.writers.copywriting import fill

WEDNESDAY = date(2026, 11, 18)


@pytest.mark.parametrize(
    ("said", "due"),
    [
        ("by Friday", date(2026, 11, 20)),
        ("next Tuesday", date(2026, 11, 24)),
        ("on Wednesday", date(2026, 11, 25)),
        ("tomorrow morning", date(2026, 11, 19)),
        ("end of day", WEDNESDAY),
        ("early next week", date(2026, 11, 23)),
        ("end of next week", date(2026, 11, 27)),
        ("by the end of the month", date(2026, 11, 30)),
        ("in two weeks", date(2026, 12, 2)),
        ("by the 3rd", date(2026, 12, 3)),
        ("this week", date(2026, 11, 20)),
    ],
)
def test_due_dates_resolve_against_the_meeting_day(said: str, due: date) -> None:
    """Spoken deadlines resolve from the day the meeting took place (a Wednesday here)."""
    found = resolve_due(f"I'll do it {said}.", WEDNESDAY)
    assert found is not None and found.date == due


def test_a_sentence_without_a_deadline_has_no_due_date() -> None:
    """'Before the holidays' or no time at all gives None rather than a guess."""
    assert resolve_due("I'll send it before the holidays.", WEDNESDAY) is None
    assert resolve_due("I'll send it.", WEDNESDAY) is None


@pytest.mark.parametrize(
    ("clause", "side", "intent"),
    [
        ("send the updated proposal with the pilot pricing", "rep", "send_proposal"),
        ("circle back on Monday with the revised numbers", "rep", "send_pricing"),
        ("set up a demo environment for Thursday", "rep", "setup_trial"),
        ("send calendar invites for the deep dive", "rep", "schedule_meeting"),
        ("loop in our CFO", "prospect", "internal_review"),
        ("loop in our solutions engineer", "rep", "intro"),
        ("check with our product team", "rep", "follow_up"),
        ("walk through the proposal", "rep", None),
    ],
)
def test_clause_intents_follow_their_precedence(clause: str, side: str, intent: str | None) -> None:
    """The object decides between proposal, pricing and materials; meetings and trials win first."""
    assert classify_clause(clause, side) == intent  # type: ignore[arg-type]


def test_speakers_are_sided_by_the_orgs_rep_names() -> None:
    """A full name or first name of a rep is the rep's side; anyone else is the prospect's."""
    assert side_of("Maya Chen", ["Maya Chen"]) == side_of("maya", ["Maya Chen"]) == "rep"
    assert side_of("Jordan Blake", ["Maya Chen"]) == "prospect"


@pytest.mark.parametrize(
    ("subject", "body", "category", "reply", "risk"),
    [
        (
            "Out of office",
            "I am out of the office until Monday with limited access to email.",
            "out_of_office",
            False,
            False,
        ),
        ("Re: hello", "Please remove me from your mailing list.", "unsubscribe", False, True),
        ("Quick call?", "Are you free for a quick call next week?", "meeting_request", True, False),
        ("Re: renewal", "Our budget is frozen until April, so we need to hold off.", "objection", True, True),
        ("Re: proposal", "Does the price include SSO? Let me know.", "reply_needed", True, False),
        ("Re: proposal", "Thanks!", "no_reply_needed", False, False),
    ],
)
def test_emails_are_classified_with_flags(
    subject: str, body: str, category: str, reply: bool, risk: bool
) -> None:
    """Auto-replies and unsubscribes first, then meeting requests, objections and questions."""
    found = classify_email({"subject": subject, "body": body, "sender": "x@y.example"})
    assert (found["category"], found["reply_needed"], found["risk_signal"]) == (category, reply, risk)


def test_the_summary_is_the_sentence_that_carries_the_point() -> None:
    """A pleasantry before the question does not become the brief's one-line summary."""
    found = classify_email(
        {
            "subject": "Demo",
            "body": "Hi Maya,\n\nLooking forward to it. Can we add time for retention?",
            "sender": "o@s.example",
        }
    )
    assert found["summary"] == "Can we add time for retention?"


def test_objections_are_categorised_for_the_prospect_only() -> None:
    """A price objection from the prospect counts; the same words from the rep do not."""
    said = [
        {"speaker": "Maya Chen", "text": "I know the price is higher than we expected for some."},
        {"speaker": "Tom Reyes", "text": "The price is higher than we expected."},
        {"speaker": "Tom Reyes", "text": "We already use another vendor for this."},
    ]
    found = objections(sentences(said, ["Maya Chen"]))
    assert [(o["speaker"], o["category"]) for o in found] == [
        ("Tom Reyes", "price"),
        ("Tom Reyes", "competition"),
    ]


def test_detect_intents_reports_questions_objections_and_the_next_meeting() -> None:
    """One call: the rep's promise, the prospect's question and objection, and an agreed meeting."""
    data = {
        "meeting": {"date": "2026-11-18"},
        "reps": ["Maya Chen"],
        "segments": [
            {
                "speaker": "Jordan Blake",
                "text": "How long does rollout take? Our last rollout took nine months.",
            },
            {"speaker": "Maya Chen", "text": "About six weeks. Let's set up a call next week with your CFO."},
            {"speaker": "Jordan Blake", "text": "Yes, that works."},
        ],
    }
    found = detect_intents(data)
    assert [q["text"] for q in found["questions"]] == ["How long does rollout take?"]
    assert [o["category"] for o in found["objections"]] == ["implementation"]
    assert found["next_meeting"] == {
        "agreed": True,
        "fixed": False,
        "phrase": "Let's set up a call next week with your CFO.",
        "proposed_by": "rep",
        "due_date": "2026-11-23",
        "segments": [1, 2],
    }


def test_action_items_name_the_other_party_and_resolve_dates() -> None:
    """'Send you the proposal' from Maya to Jordan reads 'Send Jordan the proposal', due Friday."""
    data = {
        "meeting": {"date": "2026-11-18"},
        "reps": ["Maya Chen"],
        "segments": [
            {"speaker": "Jordan Blake", "text": "What happens next?"},
            {"speaker": "Maya Chen", "text": "I'll send you the proposal by Friday."},
        ],
    }
    (item,) = extract_action_items(data)["items"]
    assert item == {
        "owner": "Maya Chen",
        "owner_side": "rep",
        "action": "Send Jordan the proposal by Friday",
        "intent": "send_proposal",
        "due_date": "2026-11-20",
        "due_phrase": "by Friday",
        "confidence": 0.95,
    }


def test_proposal_templates_fill_names_but_never_reach_attributes() -> None:
    """{company} is replaced; {company.__class__} and unknown names stay as written."""
    text = fill("{company} / {company.__class__} / {unknown}", {"company": "Brightline"})
    assert text == "Brightline / {company.__class__} / {unknown}"


@pytest.mark.parametrize(
    "turns",
    [
        [
            ("Maya Chen", "Would you like me to send a quote for the spare parts kit?"),
            ("Jordan Blake", "Yes please."),
        ],
        [
            ("Jordan Blake", "Could you send us a quote for the forty seats?"),
            ("Maya Chen", "Absolutely, will do."),
        ],
    ],
    ids=["offer accepted", "request accepted"],
)
def test_an_accepted_promise_is_the_reps_and_rests_on_both_turns(turns: list[tuple[str, str]]) -> None:
    """The prospect's "yes please" seals the rep's offer: the promise is Maya's, not Jordan's, and
    cites the offer and the answer."""
    data = {
        "meeting": {"date": "2026-11-18"},
        "reps": ["Maya Chen"],
        "segments": [{"speaker": speaker, "text": text} for speaker, text in turns],
    }
    (promise,) = [c for c in detect_intents(data)["commitments"] if c["commercial"]]
    assert (promise["speaker"], promise["side"], promise["segments"]) == ("Maya Chen", "rep", [0, 1])
    rep_turn = next(text for speaker, text in turns if speaker == "Maya Chen")
    assert rep_turn in promise["phrase"] or promise["phrase"] in rep_turn
