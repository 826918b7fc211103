"""The follow-up detector: which calls chain a proposal and which a scheduling job.

Each case is a short call in the words people use; the side of every speaker is given as
participant resolution gives it (the rep and colleagues on one side, everyone else on the other).
The labelled sets in tests/data/calls are scored too, against the thresholds the product promises.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from overture.packs.sales.rules.detect import detect_call
from overture.packs.sales.rules.detect.turns import normalise

CALLS = Path(__file__).resolve().parents[1] / "data" / "calls"
REP, SE, BUYER, EA = "Dana Reyes", "Omar Haddad", "Lena Fischer", "Grace Liu"
SIDES: dict[str, Any] = {REP: "rep", SE: "rep", BUYER: "prospect", EA: "prospect"}


def call(*turns: tuple[str, str]) -> list[dict[str, str]]:
    return [{"speaker": speaker, "text": text} for speaker, text in turns]


PROPOSAL_CASES = {
    "stated, phrasal verb split": (
        [(BUYER, "It's the three depots."), (REP, "Right — I'll put a quote together for the three depots.")],
        True,
    ),
    "outcome phrasing": ([(REP, "You'll have our quote by Thursday, covering all 1,200 seats.")], True),
    "colleague commits": ([(SE, "I'll write up the statement of work for the two data centres.")], True),
    "request accepted": (
        [(BUYER, "Could you send us a quote for the forty-seat option?"), (REP, "Absolutely, will do.")],
        True,
    ),
    "offer accepted": (
        [(REP, "Would you like me to send a quote for the spare parts kit?"), (BUYER, "Yes please.")],
        True,
    ),
    "unusual name": (
        [(REP, "I'll draw up a costing for lines two and four and get it to you Monday.")],
        True,
    ),
    "revised version": ([(REP, "I'll send you a revised quote with annual billing instead.")], True),
    "waits only on the prospect's facts": (
        [(REP, "As soon as you send me the row counts, I'll put the quote together.")],
        True,
    ),
    "declined": (
        [(BUYER, "Could you send me a rough quote?"), (REP, "I'd rather not send numbers yet, honestly.")],
        False,
    ),
    "negated": ([(REP, "We won't send pricing until the mutual NDA is signed.")], False),
    "already sent": ([(REP, "I emailed you the quote this morning, it should be in your inbox.")], False),
    "re-sent unchanged": ([(REP, "I'll forward you the same proposal again, nothing's changed.")], False),
    "hypothetical on a decision": (
        [(REP, "If you decide to go ahead with phase two, I could put a quote together.")],
        False,
    ),
    "withdrawn later": (
        [
            (REP, "I'll get a proposal across to you this week."),
            (BUYER, "The budget owner might change after the reorg."),
            (REP, "In that case let's hold off on the proposal until the reorg has settled."),
        ],
        False,
    ),
    "re-made after a hold": (
        [
            (REP, "Let's hold off on the quote until the trial is done."),
            (BUYER, "No, I need it for the budget round."),
            (REP, "Then I'll send you the quote Friday, based on the 25 users."),
        ],
        True,
    ),
    "the prospect's own document": ([(BUYER, "We'll send our RFP and the purchase order template.")], False),
    "not a commercial document": ([(REP, "I'll send the deck, the case study and the SOC 2 report.")], False),
    "public price list": ([(REP, "It's the list price on the site, I'll send you the link.")], False),
    "vague": ([(REP, "Maybe we can look at some numbers at some point.")], False),
    "a change order": ([(REP, "I'll send you a change order for the two new plants by Monday.")], True),
    "one figure in writing": (
        [(REP, "I'll get you a figure for the whole portfolio in writing by Friday.")],
        True,
    ),
    "a rate card made for them": (
        [(REP, "I'll build you a rate card for your six branches this week.")],
        True,
    ),
    "a standard sheet with a word between": (
        [(REP, "Sure, I'll send the standard per-user pricing sheet.")],
        False,
    ),
    "the slot held, not the quote": (
        [
            (REP, "I'll send the quote for both sites by Tuesday."),
            (BUYER, "Let's review it Thursday at 3pm."),
            (REP, "Thursday at three, I'll hold that."),
        ],
        True,
    ),
    "reminded of an old promise": (
        [
            (BUYER, "You said last week you'd send the pricing for our four clinics?"),
            (REP, "Yes, sorry. I'll send it tonight."),
        ],
        True,
    ),
    "their paperwork with two words before it": (
        [
            (BUYER, "We'll send you our standard supplier agreement."),
            (REP, "Fine, send it over and we'll review."),
        ],
        False,
    ),
    "that means the new thing asked for": (
        [
            (REP, "If the board picks the larger tier, I'll send a new order form."),
            (BUYER, "A short comparison of the two tiers would help."),
            (REP, "I'll send that today."),
        ],
        False,
    ),
    "a colleague says we should not quote it": (
        [
            (REP, "I'll send you a quote for the premium tier."),
            (SE, "Premium is going away, we shouldn't quote it."),
            (REP, "Right, so no premium quote, sorry."),
        ],
        False,
    ),
    "told not to send pricing": (
        [(BUYER, "And don't send me any new pricing before then."), (REP, "Understood.")],
        False,
    ),
    "asked to send it over, it will be in their inbox": (
        [
            (BUYER, "Send the order form over and we'll sign this week."),
            (REP, "Great, it'll be in your inbox within the hour."),
        ],
        True,
    ),
    "a question across a dashed aside": (
        [(BUYER, "So you'll send the costing — the full one — for both sites?"), (REP, "Yes, by Thursday.")],
        True,
    ),
    "told not to re-quote": (
        [
            (REP, "Want me to refresh the quote?"),
            (BUYER, "Please don't re-quote yet, the merger changes everything."),
            (REP, "Understood, I'll sit tight."),
        ],
        False,
    ),
    "waits on planning permission": (
        [
            (BUYER, "If planning goes through we'll want a fee proposal."),
            (REP, "When you've got planning, I'll prepare it."),
        ],
        False,
    ),
    "a transcript without apostrophes": (
        [(REP, "great and just so youre clear i wont be sending the quote until the pilots over")],
        False,
    ),
    "their own request taken back": (
        [
            (BUYER, "Can you send us a quote for the module?"),
            (BUYER, "Actually, please don't send anything yet."),
            (REP, "Understood, I'll wait."),
        ],
        False,
    ),
    "a yes then a quote that waits on their choice": (
        [
            (BUYER, "Can you send a quote?"),
            (REP, "Sure."),
            (BUYER, "We haven't decided cloud or on-prem."),
            (REP, "Then once you've decided, I'll put one together for whichever way you go."),
        ],
        False,
    ),
    "numbers to go through together": (
        [(BUYER, "I want to go through the numbers with you and our CFO."), (REP, "Will do.")],
        False,
    ),
    "a costed schedule in another language's name": (
        [(REP, "ok so I send you the cotización for the three hotels tomorrow")],
        True,
    ),
    "held, then asked for both ways": (
        [
            (REP, "I'll send the quote over tomorrow."),
            (BUYER, "Actually, hold off, the warehouse may come in."),
            (REP, "Sure, I'll hold it."),
            (BUYER, "You know what, just send it with and without the warehouse."),
            (REP, "Easy. Both versions by Thursday then."),
        ],
        True,
    ),
    "a new one only if they need it": (
        [
            (BUYER, "Thanks for the proposal. I'll tell you if I need a new one."),
            (REP, "Sure, just say the word."),
        ],
        False,
    ),
    "waits on their choice": (
        [
            (
                REP,
                "The cost proposal depends on that. Once you've chosen cloud or on-premise, I'll prepare it.",
            )
        ],
        False,
    ),
}


@pytest.mark.parametrize("name", sorted(PROPOSAL_CASES))
def test_proposal_cases(name: str) -> None:
    """A firm promise of a tailored commercial document by the rep's side chains; traps do not."""
    turns, expected = PROPOSAL_CASES[name]
    found = detect_call(call(*turns), SIDES)
    assert (found.proposal is not None) is expected, found.trail


SCHEDULE_CASES = {
    "talk soon is a sign-off": (
        [(REP, "Fingers crossed then. Let's talk soon."), (BUYER, "Yep, take care.")],
        False,
    ),
    "a meeting on our side only": (
        [(REP, "Sam and I will meet on our side Friday to work out the modules."), (BUYER, "Okay, thanks.")],
        False,
    ),
    "no meeting, please": (
        [
            (REP, "Shall we set up a call to go through it?"),
            (BUYER, "No meeting, please. Email is better for me."),
        ],
        False,
    ),
    "heads together with both lawyers": (
        [
            (BUYER, "Let's put our heads together, both lawyers on the line, once the draft is in."),
            (REP, "Yes, let's do that."),
        ],
        True,
    ),
    "their engineer on site": (
        [
            (BUYER, "We want your engineer on site to test with real parts."),
            (REP, "Of course, I'll propose some days."),
        ],
        True,
    ),
    "asked to skip, not to move": (
        [
            (BUYER, "Let's skip Thursday at 2pm, my boss is travelling."),
            (REP, "Skip it, or push it?"),
            (BUYER, "Skip. We don't need that meeting anymore."),
        ],
        False,
    ),
    "a ring only if the bank says yes": (
        [(REP, "Give me a ring if the bank says yes."), (BUYER, "Will do.")],
        False,
    ),
    "another half hour, a slot to be found": (
        [
            (BUYER, "Let's grab another half hour once I've read it."),
            (REP, "Sounds good, I'll find us a slot."),
        ],
        True,
    ),
    "question accepted": (
        [(REP, "Should we circle back after your offsite?"), (BUYER, "Yes, let's do that.")],
        True,
    ),
    "assistant finds the time": (
        [
            (REP, "Happy to do a deeper session with your architects."),
            (BUYER, "Yes, let's. Grace will send times."),
        ],
        True,
    ),
    "prospect asks, rep schedules": (
        [(BUYER, "We'd want a technical session on SSO first."), (REP, "Definitely, I'll send a few slots.")],
        True,
    ),
    "reschedule": (
        [(BUYER, "Can we move Thursday's demo? Something came up."), (REP, "Sure, let's find another slot.")],
        True,
    ),
    "a day without a clock time": (
        [
            (BUYER, "Let's talk Thursday or Friday to go through it."),
            (REP, "Sure, I'll send a couple of times."),
        ],
        True,
    ),
    "fixed to a day and time": (
        [(REP, "Does Thursday at two work for you?"), (BUYER, "Thursday at two is fine.")],
        False,
    ),
    "standing slot": (
        [(BUYER, "So same time next week?"), (REP, "Same time next week, our usual Friday slot.")],
        False,
    ),
    "turned down": (
        [(REP, "Would it be worth reconvening once it's live?"), (BUYER, "I'd rather you just email me.")],
        False,
    ),
    "put off by the prospect": (
        [(REP, "Shall we chat after?"), (BUYER, "Let's not set anything up until Q3 planning is done.")],
        False,
    ),
    "cancelled without another": (
        [(BUYER, "Let's cancel the Friday workshop."), (REP, "Okay, I'll cancel it.")],
        False,
    ),
    "not a meeting": (
        [(BUYER, "Just send me a recap by email."), (REP, "Will do, I'll write it up.")],
        False,
    ),
    "pleasantry": ([(BUYER, "Thanks, talk soon."), (REP, "Talk soon.")], False),
    "open, then fixed later in the call": (
        [
            (REP, "Let's find a time next week for the rostering session."),
            (BUYER, "Yeah."),
            (BUYER, "Actually let's fix it now — Tuesday at eleven?"),
            (REP, "Tuesday at eleven works."),
        ],
        False,
    ),
}


@pytest.mark.parametrize("name", sorted(SCHEDULE_CASES))
def test_schedule_cases(name: str) -> None:
    """A meeting both sides agree to with no time fixed chains scheduling; traps do not."""
    turns, expected = SCHEDULE_CASES[name]
    found = detect_call(call(*turns), SIDES)
    assert (found.schedule is not None) is expected, found.trail


def test_the_phrase_is_the_sentence_as_spoken() -> None:
    """The proposal's phrase is the sentence that made it, in the speaker's own words."""
    found = detect_call(call((REP, "Great call. I'll send you the proposal by Friday! Talk soon.")), SIDES)
    assert found.proposal is not None and found.proposal.phrase == "I'll send you the proposal by Friday!"


def test_normalising_expands_contractions_and_drops_fillers() -> None:
    """The lexicon sees one form of each thing people say."""
    assert normalise("Um, I'll — you know, send it; we won't wait. Let's go") == (
        "i will — send it; we will not wait. let us go"
    )


def _scores(path: Path) -> dict[str, float]:
    rows = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    counts = {label: {"tp": 0, "fp": 0, "fn": 0} for label in ("proposal", "schedule")}
    for row in rows:
        sides = {
            p["name"]: "rep" if p["role"] in ("rep", "colleague") else "prospect" for p in row["participants"]
        }
        found = detect_call(row["segments"], sides)
        predicted = {"proposal": found.proposal is not None, "schedule": found.schedule is not None}
        for label, c in counts.items():
            expected = row["expected"][label]
            if predicted[label] and expected:
                c["tp"] += 1
            elif predicted[label]:
                c["fp"] += 1
            elif expected:
                c["fn"] += 1
    return {label: 2 * c["tp"] / max(1, 2 * c["tp"] + c["fp"] + c["fn"]) for label, c in counts.items()}


@pytest.mark.parametrize(
    ("name", "floor"),
    [
        ("tune.jsonl", 0.95),
        ("tune4.jsonl", 0.95),
        ("tune5.jsonl", 0.9),
        ("tune6.jsonl", 0.88),
        ("holdout.jsonl", 0.85),
    ],
)
def test_labelled_sets_score_above_the_promise(name: str, floor: float) -> None:
    """F1 on both labels stays above its floor: the tuning sets near perfect, the held-out part at
    least at its target of 0.85 (measured 0.92 and 0.91 at the end of the last round)."""
    scores = _scores(CALLS / name)
    assert min(scores.values()) >= floor, scores
