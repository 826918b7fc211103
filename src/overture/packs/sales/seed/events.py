"""What happens in the seed org's week: the meetings held and booked, the inbox threads and the
proposals out, as data for ``week`` to place in each rep's local time."""

from __future__ import annotations

# rep, company, script (None: not held yet), workday offset, local start, minutes, kind
MEETINGS: tuple[tuple[str, str, str | None, int, tuple[int, int], int, str], ...] = (
    ("maya", "Brightline Freight", "discovery_story", 0, (10, 0), 45, "discovery"),
    ("maya", "Vantage Dental Group", "demo", -4, (14, 0), 45, "demo"),
    ("maya", "Northstar Schools", "discovery", -2, (11, 0), 30, "discovery"),
    ("leo", "Atlas Mutual", "negotiation", -3, (15, 0), 45, "negotiation"),
    ("leo", "Tidewater Shipping", "discovery", -1, (10, 0), 30, "discovery"),
    ("sofia", "Orchard Fresh Markets", "check_in", -2, (9, 30), 30, "check_in"),
    ("sofia", "Kestrel Robotics", "monologue", -1, (13, 0), 45, "demo"),
    ("kenji", "Juniper Telecom", "technical", -3, (16, 0), 45, "technical_review"),
    ("maya", "Sable Cloud Security", None, 1, (10, 0), 45, "demo"),
    ("maya", "Vantage Dental Group", None, 1, (13, 30), 30, "pricing_review"),
    ("maya", "Oakridge Senior Living", None, 1, (16, 0), 30, "check_in"),
    ("leo", "Lumen Grid Energy", None, 1, (11, 0), 30, "proposal_review"),
    ("kenji", "Fathom Marine", None, 1, (10, 0), 30, "discovery"),
)
# key, rep, company, contact index, subject, needs reply, [(direction, day offset, hour, minute, body)]
THREADS: tuple[tuple[str, str, str, int, str, bool, tuple[tuple[str, int, int, int, str], ...]], ...] = (
    (
        "harborview",
        "maya",
        "Harborview Bank",
        0,
        "Re: Proposal for Harborview Bank",
        True,
        (
            (
                "out",
                -9,
                16,
                0,
                "Hi Tom,\n\nAs promised, attached is our proposal for Harborview Bank.\n\nBest,\nMaya",
            ),
            (
                "in",
                0,
                21,
                40,
                "Thanks Maya. Quick question before I take this to our CFO: does the price include "
                "the SSO add-on? Let me know.\n\nTom",
            ),
        ),
    ),
    (
        "sable",
        "maya",
        "Sable Cloud Security",
        0,
        "Agenda for the demo",
        True,
        (
            (
                "in",
                0,
                15,
                20,
                "Hi Maya,\n\nLooking forward to the demo. Can we add 15 minutes at the end to talk "
                "about data retention? Our compliance team has a few questions.\n\nOwen",
            ),
        ),
    ),
    (
        "evergreen",
        "maya",
        "Evergreen Property",
        0,
        "Quick call next week?",
        True,
        (
            (
                "in",
                -1,
                11,
                5,
                "Hi Maya,\n\nAre you free for a quick call next week to talk about a pilot for our "
                "Toronto buildings? What does your calendar look like?\n\nGrace",
            ),
        ),
    ),
    (
        "northstar",
        "maya",
        "Northstar Schools",
        0,
        "Re: Next steps",
        True,
        (
            (
                "out",
                -2,
                15,
                0,
                "Hi Paul,\n\nThanks for the call today. As promised, here is a short "
                "overview of how teams like yours set this up.\n\nBest,\nMaya",
            ),
            (
                "in",
                0,
                19,
                5,
                "Hi Maya,\n\nThanks for the overview. I'll be honest: our budget is frozen "
                "until April, so we need to hold off for now.\n\nPaul",
            ),
        ),
    ),
    (
        "quarry",
        "maya",
        "Quarry Stone Insurance",
        0,
        "Checking in on the renewal terms",
        False,
        (
            (
                "out",
                -23,
                10,
                0,
                "Hi Alicia,\n\nChecking in on the renewal terms we discussed.\n\nBest,\nMaya",
            ),
            ("in", -23, 10, 1, "I am out of the office until December 1 with limited access to email."),
        ),
    ),
    (
        "atlas",
        "leo",
        "Atlas Mutual",
        1,
        "Redlines: Atlas Mutual MSA",
        True,
        (
            (
                "in",
                -1,
                14,
                30,
                "Hi Leo,\n\nAttached are our redlines. Could you confirm the data processing "
                "addendum is your standard one?\n\nRavi",
            ),
        ),
    ),
    (
        "riverbend",
        "sofia",
        "Riverbend Brewing",
        0,
        "Re: Brewery operations benchmark",
        False,
        (
            ("out", -5, 9, 0, "Hi,\n\nSharing our brewery operations benchmark.\n\nSofia"),
            ("in", -4, 8, 15, "Please remove me from your mailing list."),
        ),
    ),
    (
        "fathom",
        "kenji",
        "Fathom Marine",
        0,
        "Demo request",
        True,
        (
            (
                "in",
                -1,
                9,
                0,
                "Hello Kenji,\n\nCan we schedule a demo for our port operations team next week? "
                "What does your calendar look like?",
            ),
        ),
    ),
)
# company, dollars, status, day offset sent
PROPOSALS = (
    ("Harborview Bank", 120_000, "sent", -9),
    ("Lumen Grid Energy", 60_000, "sent", -3),
    ("Orchard Fresh Markets", 72_000, "sent", -6),
    ("Oakridge Senior Living", 36_000, "accepted", -12),
)
