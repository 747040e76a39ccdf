"""A gate that opens once per interval of the injected clock (for slow periodic chores)."""

from __future__ import annotations

from datetime import datetime, timedelta


class Every:
    def __init__(self, *, seconds: float) -> None:
        self._interval = timedelta(seconds=seconds)
        self._last: datetime | None = None

    def due(self, now: datetime) -> bool:
        """True the first time, then once `seconds` have passed (or the clock went back)."""
        if self._last is not None and self._last <= now < self._last + self._interval:
            return False
        self._last = now
        return True
