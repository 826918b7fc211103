"""Call scripts for the seed org's week of meetings: realistic, speaker-attributed, and varied
(discovery, demo, negotiation, check-in, technical review), each with the commitments,
questions and objections such calls have. ``{rep}``, ``{c1}``, ``{c2}``, ``{company}`` are
filled per meeting; turns are timed from their word counts, as a recorder would time them."""

from __future__ import annotations

from typing import Any

Script = tuple[tuple[str, str], ...]

DISCOVERY_STORY: Script = (
    ("rep", "Hi {c1_first}, thanks for making the time. How is the week going?"),
    ("c1", "Busy, peak season is starting, so this is good timing actually."),
    ("rep", "Glad to hear it. I'd love to start with your side: what prompted you to take this call?"),
    (
        "c1",
        "We run about forty lanes out of Chicago and Dallas, and we only find out a lane is slipping "
        "when a customer calls us. Our on-time rate dropped to eighty-six percent last quarter.",
    ),
    ("rep", "That is a real cost. How are you tracking on-time performance today?"),
    (
        "c1",
        "Mostly spreadsheets. Our analysts pull TMS exports every Monday and it takes them most of the day.",
    ),
    ("rep", "And who looks at those numbers once they are ready?"),
    ("c1", "Me, our dispatch leads, and our CFO, {c2}, looks at the monthly roll-up."),
    ("rep", "What would it mean for you if dispatch saw a slipping lane the same day?"),
    ("c1", "Honestly, fewer angry customers and probably two fewer analysts doing copy-paste work."),
    ("rep", "Makes sense. Let me show you quickly how that looks for a carrier network like yours."),
    (
        "rep",
        "Each lane here has its on-time rate, and the red ones are trending down over the last two weeks.",
    ),
    ("c1", "Do you integrate with Oracle Transportation Management? That is our TMS."),
    ("rep", "We do, there is a standard connector, and most customers are live on it within a week."),
    (
        "c1",
        "How long does a typical rollout take? Our last rollout took nine months and the team is wary "
        "of another long project.",
    ),
    (
        "rep",
        "Completely fair. For a network your size we usually go live in six weeks, with lanes in "
        "the first two.",
    ),
    ("c1", "That would be a different experience."),
    ("rep", "What would you need to see to move forward?"),
    ("c1", "A proposal I can take to {c2_first}, with pricing for both sites."),
    ("rep", "I'll send you the proposal by Friday, with pricing for Chicago and Dallas."),
    ("c1", "Great. I'll get you our lane data export by Wednesday so you can size it properly."),
    (
        "rep",
        "Perfect. And since {c2_first} signs off, let's set up a call next week with her to walk "
        "through the numbers.",
    ),
    ("c1", "Yes, that works. She is usually free in the afternoons."),
    ("rep", "Great, I'll send a few times. Anything else I should know?"),
    ("c1", "No, I think that covers it. Thanks {rep_first}."),
)

DEMO: Script = (
    (
        "rep",
        "Thanks for having me back, {c1_first}. Last time you mentioned scheduling across sites "
        "was the pain.",
    ),
    ("c1", "Right. We have twelve clinics and nobody can see capacity across them."),
    ("rep", "Then let me start with the capacity view. Which clinics should we look at first?"),
    ("c1", "Start with the two downtown ones, they are always overbooked."),
    ("rep", "Here is a week of bookings for both, and this band shows chairs sitting idle by hour."),
    ("c1", "Can my regional managers get this as a weekly email?"),
    ("rep", "Yes, any view can be scheduled, and they can filter it to their own clinics."),
    ("c1", "What does it cost for twelve sites? I'll be honest, we have a tight budget this year."),
    ("rep", "Understood. I'll send the pricing for twelve sites tomorrow, with the multi-site discount."),
    ("c1", "Thank you. I'll share the recording with our operations director."),
    ("rep", "Happy to set up a sandbox for your managers this week so they can try it with real data."),
    ("c1", "That would help a lot."),
)

NEGOTIATION: Script = (
    ("rep", "Thanks both for joining. {c2_first}, good to meet you, I know procurement has the redlines."),
    ("c2", "Yes. The main sticking point is the price, it is higher than we expected for year one."),
    ("c1", "We like the product, to be clear. It is the year-one number that is hard to get approved."),
    ("rep", "Understood. If we phased the rollout by region, would that help with the year-one number?"),
    ("c2", "It might. We would also need a twelve-month term rather than thirty-six."),
    ("rep", "I will circle back on Monday with the revised numbers for a phased, twelve-month deal."),
    ("c2", "Good. Our legal team will review the MSA in parallel."),
    ("c1", "And I'll take the revised offer to our CFO as soon as we have it."),
    ("rep", "Great. Is there anything else in the redlines we should discuss today?"),
    ("c2", "Only the data processing addendum, and that is standard."),
    ("rep", "Then I'll send the contract with the updated terms once the numbers are agreed."),
)

CHECK_IN: Script = (
    ("rep", "Hi {c1_first}, I wanted to check in after the pilot. How did the stores find it?"),
    ("c1", "Mixed. The regional managers loved the stock-out alerts, the store managers barely logged in."),
    ("rep", "That is useful. What got in the way for the store managers?"),
    ("c1", "Mostly time. And to be transparent, we are comparing you with two other vendors now."),
    ("rep", "Thanks for telling me. What will the decision come down to?"),
    ("c1", "Adoption in the stores, and price per store."),
    ("rep", "Would it help if I sent you a case study from a grocery chain that solved store adoption?"),
    ("c1", "Yes, please."),
    ("rep", "I'll also book time with your store operations lead next week to show the mobile view."),
    ("c1", "Sounds good. I'll forward this to our head of store operations."),
)

TECHNICAL: Script = (
    ("rep", "{c1_first}, {c2_first}, thanks for the time. I understand security has a few questions."),
    ("c2", "Yes. Do you support SAML single sign-on with our identity provider?"),
    ("rep", "We support SAML 2.0 with all the major providers, including yours."),
    ("c2", "Where is the data stored? We need it to stay in Japan."),
    ("rep", "Let me check with our product team on the Tokyo region and get back to you by Thursday."),
    ("c2", "Our security team will review the SOC 2 report once we have it."),
    ("rep", "I'll send the SOC 2 report and the pen test summary today."),
    ("c1", "And the integration with our billing system, is that something you have done before?"),
    ("rep", "Yes, twice. I'll introduce you to the engineer who built the last one."),
    ("c1", "Great, let's reconvene in two weeks once security has finished."),
    ("rep", "Works for me."),
)

DISCOVERY: Script = (
    ("rep", "Thanks for taking the call, {c1_first}. What made you reach out?"),
    ("c1", "We are growing fast and our reporting has not kept up. Every report is a manual job."),
    ("rep", "How many people are involved in building those reports today?"),
    ("c1", "Three analysts, and they spend most of the week on it."),
    ("rep", "What would you do with that time if the reports built themselves?"),
    ("c1", "Actually analyse things. Right now we only look backwards."),
    ("rep", "Who else would be involved in choosing a tool like this?"),
    ("c1", "Our COO, and IT will want a say on security."),
    ("rep", "What is your timeline for making a decision?"),
    ("c1", "Ideally before the new budget year starts in January."),
    ("rep", "Let me put together a short overview of how teams like yours set this up and send it tomorrow."),
    ("c1", "That would be useful. I'll run it by our COO."),
)

MONOLOGUE: Script = (
    ("rep", "Thanks for joining, everyone. I'll walk you through the platform today."),
    (
        "rep",
        "So this is the home screen. Every site shows up here with its throughput, its downtime and "
        "its scrap rate, and you can drill into any line. We built this with plants like yours in mind, "
        "and customers typically see a ten percent lift in throughput within a quarter. The alerts on "
        "the right fire when a line drifts, and you can route them to the shift lead's phone. There is "
        "also a weekly digest for plant managers, and an executive roll-up across sites.",
    ),
    (
        "rep",
        "Over here are the reports. You can build your own, schedule them, and share them with anyone "
        "in the company, and everything is permissioned by site. We also have an API if your team "
        "wants to pull the data into your own tools, and a connector for the common MES systems.",
    ),
    ("c1", "Does it work with our MES?"),
    ("rep", "Which one do you run?"),
    ("c1", "A custom one, built in-house."),
    ("rep", "Then we would use the API. I'll send the API documentation after the call."),
    ("c1", "Okay. We'll discuss it internally."),
)

SCRIPTS: dict[str, Script] = {
    "discovery_story": DISCOVERY_STORY,
    "demo": DEMO,
    "negotiation": NEGOTIATION,
    "check_in": CHECK_IN,
    "technical": TECHNICAL,
    "discovery": DISCOVERY,
    "monologue": MONOLOGUE,
}


def render(
    script: Script, names: dict[str, str], pace_s: float = 0.42, gap_s: float = 1.2
) -> list[dict[str, Any]]:
    """A script as transcript segments (MeetingBaaS' shape), timed from word counts."""
    values = dict(names)
    for key in ("rep", "c1", "c2"):
        values[f"{key}_first"] = values.get(key, "").split(" ")[0]
    segments: list[dict[str, Any]] = []
    clock = 2.0
    for who, line in script:
        text = line.format(**values)
        seconds = round(len(text.split()) * pace_s, 1)
        segments.append(
            {"speaker": values[who], "start_s": clock, "end_s": round(clock + seconds, 1), "text": text}
        )
        clock = round(clock + seconds + gap_s, 1)
    return segments
