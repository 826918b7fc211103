"""The fixed cast of the seed org: reps, companies, the story's people, templates and campaigns.
Names and values that vary with the seed number are drawn in ``generate``; what the demo's story
and the tests rely on is fixed here."""

from __future__ import annotations

ORG_NAME = "Northwind Analytics"
ORG_DOMAIN = "northwind.example"
ORG_PROFILE = {
    "domains": [ORG_DOMAIN],
    "icp": "Mid-market logistics, retail, healthcare and manufacturing companies (200-5,000 employees) "
    "running multi-site operations",
    "product": "Northwind Ops Cloud: real-time operations analytics - lane and site performance, on-time "
    "rates, capacity and carrier scorecards",
}

# key, name, title, time zone, role
REPS = (
    ("maya", "Maya Chen", "Account Executive", "America/New_York", "member"),
    ("leo", "Leo Okafor", "Account Executive", "Europe/London", "member"),
    ("sofia", "Sofia Alvarez", "Account Executive", "America/Los_Angeles", "member"),
    ("kenji", "Kenji Watanabe", "Account Executive", "Asia/Tokyo", "member"),
    ("dana", "Dana Brooks", "Sales Manager", "America/Chicago", "admin"),
)

# name, domain stem, industry, employees, HQ time zone, owner rep key
COMPANIES = (
    ("Brightline Freight", "brightline-freight", "Logistics", 1200, "America/Chicago", "maya"),
    ("Harborview Bank", "harborview-bank", "Financial services", 3400, "America/New_York", "maya"),
    ("Quarry Stone Insurance", "quarrystone", "Insurance", 2600, "America/New_York", "maya"),
    ("Sable Cloud Security", "sablecloud", "Software", 420, "America/New_York", "maya"),
    ("Keystone Credit Union", "keystone-cu", "Financial services", 650, "America/New_York", "maya"),
    ("Oakridge Senior Living", "oakridge-living", "Healthcare", 1900, "America/New_York", "maya"),
    ("Evergreen Property", "evergreen-property", "Real estate", 410, "America/Toronto", "maya"),
    ("Northstar Schools", "northstar-schools", "Education", 520, "America/Chicago", "maya"),
    ("Vantage Dental Group", "vantage-dental", "Healthcare", 1500, "America/Chicago", "maya"),
    ("Kestrel Robotics", "kestrel-robotics", "Manufacturing", 640, "America/Los_Angeles", "sofia"),
    ("Orchard Fresh Markets", "orchard-fresh", "Retail", 2100, "America/Denver", "sofia"),
    ("Pioneer Aerospace Parts", "pioneer-aero", "Manufacturing", 750, "America/Phoenix", "sofia"),
    ("Redwood Learning", "redwood-learning", "Education", 300, "America/Los_Angeles", "sofia"),
    ("Granite Peak Construction", "granitepeak", "Construction", 1600, "America/Denver", "sofia"),
    ("Prairie Agri Co-op", "prairie-agri", "Agriculture", 800, "America/Chicago", "sofia"),
    ("Riverbend Brewing", "riverbend-brewing", "Food and beverage", 260, "America/Los_Angeles", "sofia"),
    ("Tidewater Shipping", "tidewater-shipping", "Logistics", 900, "Europe/London", "leo"),
    ("Lumen Grid Energy", "lumengrid", "Energy", 1800, "Europe/Berlin", "leo"),
    ("Willow Creek Hotels", "willowcreek-hotels", "Hospitality", 2800, "Europe/Madrid", "leo"),
    ("Atlas Mutual", "atlas-mutual", "Insurance", 5000, "Europe/London", "leo"),
    ("Beacon Biotech", "beacon-bio", "Life sciences", 560, "Europe/Paris", "leo"),
    ("Copperleaf Media", "copperleaf", "Media", 350, "Europe/Dublin", "leo"),
    ("Helix Pharma Supply", "helix-pharma", "Distribution", 1300, "Europe/Amsterdam", "leo"),
    ("Ironbridge Manufacturing", "ironbridge-mfg", "Manufacturing", 2200, "Europe/London", "leo"),
    ("Larkspur Fashion", "larkspur", "Retail", 1100, "Europe/Rome", "leo"),
    ("Driftwood Outdoor", "driftwood-outdoor", "Retail", 980, "Australia/Sydney", "kenji"),
    ("Fathom Marine", "fathom-marine", "Logistics", 700, "Asia/Singapore", "kenji"),
    ("Juniper Telecom", "juniper-telecom", "Telecom", 4100, "Asia/Tokyo", "kenji"),
    ("Meridian Travel", "meridian-travel", "Travel", 900, "Asia/Tokyo", "kenji"),
    ("Summit Cold Chain", "summit-coldchain", "Logistics", 1400, "Asia/Singapore", "kenji"),
)

# The people the story and the inbox name, by company: (name, title) for the first two contacts.
FIXED_CONTACTS = {
    "Brightline Freight": (("Jordan Blake", "VP Operations"), ("Rachel Kim", "CFO")),
    "Harborview Bank": (("Tom Reyes", "Director of Operations"), None),
    "Quarry Stone Insurance": (("Alicia Grant", "COO"), None),
    "Sable Cloud Security": (("Owen Pryce", "Head of Support Operations"), None),
    "Keystone Credit Union": (("Ben Whitaker", "VP Member Services"), None),
    "Oakridge Senior Living": (("Marcus Hale", "Director of Facilities"), None),
    "Evergreen Property": (("Grace Liu", "VP Portfolio Operations"), None),
    "Northstar Schools": (("Paul Dimitriou", "Director of Operations"), None),
    "Atlas Mutual": (("Fiona Marsh", "Head of Claims Operations"), ("Ravi Sharma", "Procurement Lead")),
    "Juniper Telecom": (
        ("Haruka Sato", "Network Operations Director"),
        ("Daichi Mori", "Security Architect"),
    ),
}

FIRST_NAMES = (
    "Amara", "Ben", "Chloe", "Diego", "Elena", "Farah", "Gavin", "Hana", "Isaac", "Julia", "Kofi",
    "Lena", "Mateo", "Nora", "Oscar", "Priyanka", "Quentin", "Rosa", "Samir", "Tessa", "Umar", "Vera",
    "Wes", "Ximena", "Yusuf", "Zoe",
)  # fmt: skip
LAST_NAMES = (
    "Adler", "Baptiste", "Costa", "Dunn", "Eriksen", "Fischer", "Gupta", "Hughes", "Ibarra", "Jensen",
    "Kowalski", "Lindqvist", "Moreau", "Nakamura", "Okonkwo", "Petrov", "Quinn", "Rossi", "Schmidt",
    "Tanaka", "Usman", "Varga", "Walsh", "Yilmaz", "Zhou",
)  # fmt: skip
TITLES = (
    "VP Operations", "Director of Logistics", "Head of Supply Chain", "COO", "Operations Manager",
    "IT Director", "Procurement Lead", "Head of Analytics",
)  # fmt: skip

TEMPLATES = (
    (
        "Standard platform proposal",
        "# Proposal for {company}\n\nPrepared for {contact_name} by {rep_name}, {date}.\n\n"
        "## What you told us\n{concerns}\n\n## Scope\nNorthwind Ops Cloud for {company}'s operations "
        "team: live performance dashboards, alerts and scheduled reports for every site, connected to "
        "your existing systems.\n\n## Timeline\nWeeks 1-2: connectors and first dashboards. Weeks 3-6: "
        "rollout to every site, training, and go-live.\n\n## Investment\n{value} per year, including "
        "onboarding and support.\n\n## Next steps\nA walkthrough of this proposal with your team, then "
        "a mutual plan to go-live.",
    ),
    (
        "Pilot proposal",
        "# Pilot proposal for {company}\n\nPrepared for {contact_name} by {rep_name}, {date}.\n\n"
        "A 60-day pilot of Northwind Ops Cloud on two sites, with success criteria agreed up front. "
        "The pilot fee of {value} is credited against the first year if you continue.\n\n"
        "## Concerns to address\n{concerns}",
    ),
)

CAMPAIGNS = (
    (
        "Q4 Logistics Outbound",
        "camp_q4_logistics",
        "active",
        {
            "leads_count": 480,
            "contacted_count": 412,
            "emails_sent_count": 1150,
            "open_count_unique": 236,
            "reply_count_unique": 19,
            "bounced_count": 74,
            "unsubscribed_count": 6,
            "total_interested": 7,
            "total_meeting_booked": 3,
            "previous": {"reply_count_unique": 15, "bounced_count": 41, "emails_sent_count": 1020},
        },
    ),
    (
        "Healthcare Webinar Follow-up",
        "camp_health_webinar",
        "paused",
        {
            "leads_count": 150,
            "contacted_count": 150,
            "emails_sent_count": 300,
            "open_count_unique": 120,
            "reply_count_unique": 11,
            "bounced_count": 2,
            "unsubscribed_count": 1,
            "total_interested": 4,
            "total_meeting_booked": 2,
            "previous": {"reply_count_unique": 11, "bounced_count": 2, "emails_sent_count": 300},
        },
    ),
)
