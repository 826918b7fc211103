"""Reading the person's answers (pure): picks from an offered list, yes and no, a verdict."""

from __future__ import annotations

import re
from collections.abc import Sequence

YES = frozenset({"", "y", "yes", "ok", "okay", "sure", "write", "keep", "accept", "all", "true"})
NO = frozenset({"n", "no", "nope", "don't", "dont", "skip", "false"})


def items(answer: str) -> list[str]:
    """An answer as its parts: split on ``;`` when there is one, else on ``,``."""
    sep = ";" if ";" in answer else ","
    return [part.strip() for part in answer.split(sep) if part.strip()]


def pick(answer: str, offered: Sequence[str], most: int | None = None) -> list[str]:
    """Offered items chosen by number ("1, 3"), and new ones written out, in the order given."""
    chosen: list[str] = []
    for part in items(answer):
        numbered = part.isdigit() and 1 <= int(part) <= len(offered)
        text = offered[int(part) - 1] if numbered else part
        if text not in chosen:
            chosen.append(text)
    return chosen[:most] if most is not None else chosen


def yes(answer: str) -> bool:
    """Enter, yes, ok, keep or accept is yes; anything else is no."""
    return answer.strip().lower() in YES


def numbers(answer: str, count: int) -> list[int]:
    """1-based numbers in ``answer`` that are within ``count`` ("drop 2 and 4" → [2, 4])."""
    return [int(n) for n in re.findall(r"\d+", answer) if 1 <= int(n) <= count]


def verdict(answer: str, choices: Sequence[str]) -> str:
    """The choice the answer's first word starts like ("t" → "tomorrow"), else the first."""
    word = (answer.strip().lower().split() or [""])[0]
    for choice in choices:
        if word and (choice.startswith(word) or word.startswith(choice)):
            return choice
    return choices[0]
