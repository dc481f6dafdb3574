"""Small example tools for the offline demo: a weather lookup, a calendar and a memo pad."""

from __future__ import annotations

from dataclasses import dataclass, field

from pydantic import BaseModel, Field

from planner import ToolContext, ToolRegistry, ToolSpec

FORECASTS = {
    "berlin": ("light rain", 9),
    "lisbon": ("sunny", 19),
    "oslo": ("snow", -3),
}
EVENTS = {
    "monday": ["09:00 team stand-up", "14:00 dentist"],
    "tuesday": ["10:00 design review"],
    "wednesday": [],
}


class WeatherIn(BaseModel):
    city: str = Field(description="City name, e.g. Berlin")


class WeatherOut(BaseModel):
    city: str
    summary: str
    celsius: int


class CalendarIn(BaseModel):
    day: str = Field(description="Weekday name, e.g. monday")


class CalendarOut(BaseModel):
    day: str
    events: list[str]


class MemoIn(BaseModel):
    text: str = Field(min_length=1, max_length=500)


class MemoOut(BaseModel):
    memo_id: int


@dataclass
class MemoPad:
    """Where demo memos go: one pad per demo run."""

    memos: list[str] = field(default_factory=list)


def demo_registry(pad: MemoPad | None = None) -> ToolRegistry:
    """The demo's tools: two parallel-safe reads and one write."""
    memo_pad = pad or MemoPad()

    async def weather(ctx: ToolContext, inp: WeatherIn) -> WeatherOut:
        known = FORECASTS.get(inp.city.strip().lower())
        if known is None:
            raise LookupError(f"no forecast for {inp.city!r}; known: Berlin, Lisbon, Oslo")
        return WeatherOut(city=inp.city, summary=known[0], celsius=known[1])

    async def calendar(ctx: ToolContext, inp: CalendarIn) -> CalendarOut:
        return CalendarOut(day=inp.day, events=EVENTS.get(inp.day.lower(), []))

    async def memo(ctx: ToolContext, inp: MemoIn) -> MemoOut:
        memo_pad.memos.append(inp.text)
        return MemoOut(memo_id=len(memo_pad.memos))

    return ToolRegistry(
        [
            ToolSpec(
                "demo.weather",
                "Today's forecast for a city.",
                WeatherIn,
                WeatherOut,
                weather,
                policy_hint="read",
            ),
            ToolSpec(
                "demo.calendar",
                "The user's events on a weekday.",
                CalendarIn,
                CalendarOut,
                calendar,
                policy_hint="read",
            ),
            ToolSpec(
                "demo.memo",
                "Save a short memo for the user.",
                MemoIn,
                MemoOut,
                memo,
                policy_hint="write",
            ),
        ]
    )
