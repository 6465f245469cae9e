"""Waiting in tests: on a condition, with a bound, never for a fixed time.

A test that sleeps a fixed time is slow when the machine is idle and flaky when it is loaded; a
test that asserts how long something took fails on a busy machine and passes on a broken
design. These wait for what the test is about, and fail with ``message`` once ``timeout``
seconds have passed without it.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

T = TypeVar("T")
Message = str | Callable[[], str]


def _text(message: Message) -> str:
    return message() if callable(message) else message


def wait_until(predicate: Callable[[], T], timeout: float, message: Message, every: float = 0.2) -> T:
    """The first truthy value of ``predicate()``, polled every ``every`` seconds; AssertionError
    with ``message`` (or what ``message()`` says then) after ``timeout`` seconds. An exception
    raised by ``predicate`` propagates (a process found dead fails at once)."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise AssertionError(f"{_text(message)} (not within {timeout:g} s)")
        time.sleep(every)


async def await_until(predicate: Callable[[], T | Awaitable[T]], timeout: float, message: str, every: float = 0.2) -> T:
    """``wait_until`` for async tests: ``predicate`` may be a coroutine function; the event loop
    keeps running between polls."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if asyncio.iscoroutine(value):
            value = await value
        if value:
            return value
        if time.monotonic() >= deadline:
            raise AssertionError(f"{_text(message)} (not within {timeout:g} s)")
        await asyncio.sleep(every)
