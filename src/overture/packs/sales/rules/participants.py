"""Who was on a call, and on which side: a pure decision over everything the sources give.

The sources disagree in shape: the recorder knows display names ("Lena Fischer", "Dana W."), the
calendar knows emails ("lena.fischer@calderfreight.com"), the org knows its users and its email
domains, the CRM knows contacts. A person is matched across them by email first, then by name
(full name, first name, initials and email local parts such as ``lfischer`` or ``lena.fischer``).
Anyone on the org's domains or among its users is on the rep's side; so is a speaker the
sources cannot place who talks like the seller ("our platform", "we'll send you the quote") more
than like the buyer. Everyone else is the prospect's side.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

Side = Literal["rep", "prospect"]

PERSONAL_DOMAINS = frozenset(
    {
        "gmail.com",
        "googlemail.com",
        "outlook.com",
        "hotmail.com",
        "live.com",
        "yahoo.com",
        "icloud.com",
        "me.com",
        "aol.com",
        "proton.me",
        "protonmail.com",
        "gmx.com",
        "mail.com",
    }
)
_SELLER = re.compile(
    r"\b(?:our (?:platform|product|solution|pricing|connectors?|api|roadmap|sla|engineers?|support team|"
    r"implementation team|customers|clients|deal desk|onboarding|standard|native)|"
    r"(?:we|i)(?:'ll| will| can) (?:send|set up|configure|price|quote|provision|put together|walk you)|"
    r"we (?:sign|support|integrate|offer|provide|typically|usually|load|score|read|ingest|host|credit)|"
    r"customers (?:typically|usually|see|get|run)|(?:most|many|other) (?:of our )?customers|"
    r"your (?:team|sites?|warehouses?|data|stack|fleet|drivers|use case|volume|business|operation|network|"
    r"size|mills?|plants?|carriers|lanes|hubs|dcs|stores|depots|people|trucks))\b",
    re.IGNORECASE,
)
_BUYER = re.compile(
    r"\b(?:our (?:team|budget|cfo|ceo|board|warehouses?|sites?|current|vendor|it team|legal|procurement|"
    r"drivers|fleet|data|stack|ops|operations|mills?|plants?|stores|hubs|dcs|carriers|customers)|"
    r"we (?:need|want|are looking|use|have|currently|run|ship|lose)|"
    r"your (?:product|platform|pricing|tool|solution|proposal|quote|api|connector|team))\b",
    re.IGNORECASE,
)


# The rep introducing a colleague: "Priya from our team is with me", "my colleague Omar".
_INTRODUCED = re.compile(
    r"\b(?:NAME\b[^.?!]{0,40}\b(?:from|on|of) (?:our|my) (?:\w+ )?(?:team|side|company|group|office)|"
    r"(?:my|our) (?:colleague|teammate|solutions engineer|engineer|se|manager|boss|architect|"
    r"account executive|specialist|consultant|partner)s?,? NAME\b|NAME,? (?:our|my) (?:colleague|"
    r"solutions engineer|engineer|se|manager|architect|account executive|specialist|consultant))"
)


def fold(text: str) -> str:
    """Lower case, accents removed, letters only: "Zoë O'Brien" -> "zoe obrien"."""
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return " ".join(re.sub(r"[^a-z ]", "", plain.lower().replace("-", " ")).split())


def domain_of(email: str | None) -> str | None:
    if not email or "@" not in email:
        return None
    return email.rsplit("@", 1)[1].strip().lower() or None


def name_matches(name: str, other: str) -> bool:
    """Same person by name: the full names agree, or one is the other's first name, or first
    name plus initial ("Dana W.")."""
    a, b = fold(name).split(), fold(other).split()
    if not a or not b:
        return False
    if a == b:
        return True
    short, long = (a, b) if len(a) <= len(b) else (b, a)
    if len(short) == 1:
        return short[0] == long[0]
    return short[0] == long[0] and long[-1].startswith(short[-1])


def email_matches(name: str, email: str | None) -> bool:
    """A name and an email's local part that spell the same person: lena.fischer, lena_fischer,
    lfischer, fischerl, lena, lena.f."""
    if not email or "@" not in email:
        return False
    local = re.sub(r"[^a-z]", ".", email.split("@", 1)[0].lower()).strip(".")
    parts = fold(name).split()
    if not parts or not local:
        return False
    first, last = parts[0], parts[-1]
    joined = local.replace(".", "")
    forms = {first + last, first, first[0] + last, last + first[0], first + last[0], last + first}
    return joined in forms or (
        local.split(".")[0] == first and (len(parts) == 1 or last.startswith(local.split(".")[-1]))
    )


@dataclass
class Person:
    """One human on the call, with everything the sources said about them."""

    name: str
    side: Side
    email: str | None = None
    user_id: str | None = None
    contact_id: str | None = None
    company_id: str | None = None
    spoke: bool = False
    on_invite: bool = False
    how: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "side": self.side,
            "email": self.email,
            "user_id": self.user_id,
            "contact_id": self.contact_id,
            "company_id": self.company_id,
            "spoke": self.spoke,
            "on_invite": self.on_invite,
            "matched_by": self.how,
        }


@dataclass(frozen=True)
class Facts:
    """What the sources know, gathered by the caller."""

    speakers: Sequence[str]
    said: Mapping[str, str]
    participants: Sequence[str] = ()
    attendees: Sequence[Mapping[str, Any]] = ()
    users: Sequence[Mapping[str, Any]] = ()
    domains: Iterable[str] = ()
    contacts: Sequence[Mapping[str, Any]] = ()
    owner_id: str | None = None


def _user_for(name: str, email: str | None, users: Sequence[Mapping[str, Any]]) -> Mapping[str, Any] | None:
    for user in users:
        if email and str(user.get("email") or "").lower() == email.lower():
            return user
    full = [u for u in users if fold(str(u.get("name") or "")) == fold(name)]
    if full:
        return full[0]
    partial = [u for u in users if name_matches(name, str(u.get("name") or ""))]
    return partial[0] if len(partial) == 1 else None


def _contact_for(
    name: str, email: str | None, contacts: Sequence[Mapping[str, Any]]
) -> Mapping[str, Any] | None:
    if email:
        hit = next((c for c in contacts if str(c.get("email") or "").lower() == email.lower()), None)
        if hit is not None:
            return hit
    named = [c for c in contacts if fold(str(c.get("name") or "")) == fold(name)]
    return named[0] if len(named) == 1 else None


def _leaning(words: str) -> int:
    """Seller cues minus buyer cues in what someone said."""
    return len(_SELLER.findall(words)) - len(_BUYER.findall(words))


def resolve(facts: Facts) -> list[Person]:
    """Everyone on the call, each on a side, matched to users and contacts where they exist."""
    ours = {d.lower() for d in facts.domains if d}
    ours |= {
        d for u in facts.users if (d := domain_of(str(u.get("email") or ""))) and d not in PERSONAL_DOMAINS
    }
    people: list[Person] = []

    def find(name: str, email: str | None) -> Person | None:
        for person in people:
            if email and person.email and person.email.lower() == email.lower():
                return person
            if name and name_matches(person.name, name):
                return person
            if name and person.email and email_matches(name, person.email):
                return person
            if email and person.name and email_matches(person.name, email):
                return person
        return None

    for attendee in facts.attendees:
        email = str(attendee.get("email") or "").strip() or None
        name = str(attendee.get("name") or attendee.get("display_name") or "").strip()
        if email is None and not name:
            continue
        person = Person(name or email or "", "prospect", email=email, on_invite=True, how=["calendar"])
        people.append(person)
    for name in [*facts.speakers, *facts.participants]:
        found = find(name, None)
        if found is None:
            person = Person(name, "prospect", how=["recorder"])
            people.append(person)
        else:
            person = found
            if person.name == person.email:
                person.name = name
        if name in facts.speakers:
            person.spoke = True
    for person in people:
        user = _user_for(person.name, person.email, facts.users)
        domain = domain_of(person.email)
        if user is not None:
            person.side, person.user_id = "rep", str(user["id"])
            person.email = person.email or (str(user.get("email")) if user.get("email") else None)
            person.how.append("user")
        elif domain and domain in ours:
            person.side = "rep"
            person.how.append("org domain")
        else:
            contact = _contact_for(person.name, person.email, facts.contacts)
            if contact is not None:
                person.contact_id = str(contact["id"])
                person.company_id = str(contact["company_id"]) if contact.get("company_id") else None
                person.email = person.email or (str(contact["email"]) if contact.get("email") else None)
                person.how.append("contact")
    _place_the_unknown(people, facts)
    return people


def _place_the_unknown(people: list[Person], facts: Facts) -> None:
    """Speakers no source placed: the one who talks most like the seller is the rep when no
    speaker matched a user; any other who clearly talks like the seller is a colleague."""
    unknown = [p for p in people if p.spoke and not p.on_invite and p.how == ["recorder"]]
    if not unknown:
        return
    ours = " ".join(facts.said.get(p.name, "") for p in people if p.side == "rep")
    for person in unknown:
        first = re.escape(person.name.split()[0]) if person.name.split() else ""
        if first and re.search(_INTRODUCED.pattern.replace("NAME", first), ours, re.IGNORECASE):
            person.side = "rep"
            person.how.append("introduced by the rep's side")
    unknown = [p for p in unknown if p.side == "prospect"]
    if not unknown:
        return
    leaning = {p.name: _leaning(facts.said.get(p.name, "")) for p in unknown}
    if not any(p.side == "rep" and p.spoke for p in people) and facts.owner_id:
        best = max(unknown, key=lambda p: leaning[p.name])
        if leaning[best.name] > 0 or len(unknown) == 1:
            best.side, best.user_id = "rep", facts.owner_id
            best.how.append("talks like the seller")
    for person in unknown:
        if person.side == "prospect" and leaning[person.name] >= 2:
            person.side = "rep"
            person.how.append("talks like the seller")


def sides(people: Iterable[Person]) -> dict[str, Side]:
    """Each speaker's side, as the detector reads them."""
    return {p.name: p.side for p in people if p.spoke}
