"""AI budget periods and state, as pure functions of the clock."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

PERIODS = ("day", "week", "month")
MICROS = 1_000_000


def period_start(period: str, now: datetime) -> datetime:
    """The start (UTC) of the budget period containing ``now``: a day, an ISO week or a month."""
    now = now.astimezone(UTC)
    day = now.replace(hour=0, minute=0, second=0, microsecond=0)
    if period == "day":
        return day
    if period == "week":
        return day - timedelta(days=day.weekday())
    if period == "month":
        return day.replace(day=1)
    raise ValueError(f"unknown budget period {period!r}; use one of {', '.join(PERIODS)}")


@dataclass(frozen=True)
class BudgetState:
    """How much of each configured budget an org has spent in the current periods."""

    limits: dict[str, int]
    spent: dict[str, int]

    @property
    def exceeded_period(self) -> str | None:
        """The first period whose limit is reached, or None while there is money left."""
        for period in PERIODS:
            limit = self.limits.get(period)
            if limit is not None and self.spent.get(period, 0) >= limit:
                return period
        return None

    @property
    def exceeded(self) -> bool:
        return self.exceeded_period is not None

    def as_dict(self) -> dict[str, dict[str, float]]:
        return {
            p: {"limit_usd": self.limits[p] / MICROS, "spent_usd": self.spent.get(p, 0) / MICROS}
            for p in self.limits
        }


def usd_to_micros(usd: float) -> int:
    """Dollars to integer micro-dollars, rounded."""
    return round(usd * MICROS)
