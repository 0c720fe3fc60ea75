"""Sliding chat history (`jaju.history: "sliding"`): drop the oldest turns until the prompt fits.

Never dropped: system and developer messages (kept where they stand) and the last user turn with
everything after it. Turns are cut only where a user message begins, so an assistant's tool_calls
always stay with their tool results. If even the pinned messages and the last turn do not fit, the
request is a 400 `context_length_exceeded`.

`count_tokens(messages) -> int` counts the whole rendered prompt (chat template included), so the
budget is exact for the model that will read it; the search calls it O(log turns) times.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from jaju.errors import InvalidRequest

Messages = list[dict[str, Any]]
PINNED = frozenset({"system", "developer"})


def cut_points(messages: Messages) -> list[int]:
    """Indices where a kept history may start: each user message up to and including the last one."""
    users = [i for i, m in enumerate(messages) if m.get("role") == "user"]
    if not users:
        raise InvalidRequest("The conversation has no user message to answer.", "invalid_messages", "messages")
    return users


def keep_from(messages: Messages, start: int) -> Messages:
    """Pinned messages before `start`, then everything from `start` on."""
    return [m for i, m in enumerate(messages) if i >= start or m.get("role") in PINNED]


def fit_history(messages: Messages, count_tokens: Callable[[Messages], int], budget: int) -> Messages:
    """The longest suffix of whole turns (plus system/developer messages) whose prompt fits `budget` tokens."""
    points = cut_points(messages)
    if count_tokens(messages) <= budget:
        return messages
    lo, hi = 1, len(points) - 1  # points[0] is the full history, known not to fit
    best: int | None = None
    while lo <= hi:
        mid = (lo + hi) // 2
        if count_tokens(keep_from(messages, points[mid])) <= budget:
            best, hi = mid, mid - 1
        else:
            lo = mid + 1
    if best is None:
        raise _too_long(count_tokens(keep_from(messages, points[-1])), budget)
    return keep_from(messages, points[best])


async def fit_history_async(messages: Messages, count_tokens: Callable[[Messages], Awaitable[int]],
                            budget: int) -> Messages:
    """`fit_history` for a backend whose token count is a coroutine (`Backend.count_tokens`)."""
    points = cut_points(messages)
    if await count_tokens(messages) <= budget:
        return messages
    lo, hi = 1, len(points) - 1
    best: int | None = None
    while lo <= hi:
        mid = (lo + hi) // 2
        if await count_tokens(keep_from(messages, points[mid])) <= budget:
            best, hi = mid, mid - 1
        else:
            lo = mid + 1
    if best is None:
        raise _too_long(await count_tokens(keep_from(messages, points[-1])), budget)
    return keep_from(messages, points[best])


def _too_long(needed: int, budget: int) -> InvalidRequest:
    return InvalidRequest(f"The system messages and the last user turn need {needed} tokens, but only {budget} "
                          "fit in the model's context after max_tokens; shorten them or lower max_tokens.",
                          "context_length_exceeded", "messages")
