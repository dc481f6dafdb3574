"""The one retry policy every adapter wraps its provider call in (tenacity)."""

from __future__ import annotations

import email.utils
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import anthropic
import httpx2
import openai
from tenacity import AsyncRetrying, RetryCallState, retry_if_exception, stop_after_attempt

from planner.errors import ModelError
from planner.logging import get_logger
from planner.models.base import RETRY_SINK, RetryInfo

T = TypeVar("T")

RETRYABLE_STATUS = frozenset({408, 409, 429})
NEVER_RETRY_STATUS = frozenset({400, 401, 403, 404, 422})
# Error types Anthropic sends in an SSE `error` event after a 200 response has started.
RETRYABLE_STREAM_ERRORS = frozenset({"overloaded_error", "api_error", "rate_limit_error"})

log = get_logger("planner.models")


@dataclass(frozen=True)
class RetryPolicy:
    """Attempts and backoff: exponential from initial_wait_s, capped, plus random jitter."""

    max_attempts: int = 5
    initial_wait_s: float = 1.0
    max_wait_s: float = 60.0
    jitter_s: float = 1.0
    max_retry_after_s: float = 120.0
    """A server's retry-after is honoured up to this many seconds."""

    def backoff_s(self, attempt: int) -> float:
        """The wait after failed attempt number `attempt` (1-based) with no retry-after."""
        exp = self.initial_wait_s * 2.0 ** (attempt - 1)
        return min(self.max_wait_s, exp) + random.uniform(0, self.jitter_s)


@dataclass(frozen=True)
class Failure:
    """What went wrong with one call, as far as retrying is concerned."""

    retryable: bool
    status: int | None
    description: str
    retry_after_s: float | None = None


def classify(exc: BaseException) -> Failure | None:
    """Describe a provider or transport failure; None for anything else (a bug, not an outage)."""
    if isinstance(exc, anthropic.APIStatusError | openai.APIStatusError):
        status = exc.status_code
        error_type = _error_field(exc.body, "type")
        retryable = status not in NEVER_RETRY_STATUS and (
            status in RETRYABLE_STATUS
            or status >= 500
            or (status < 400 and error_type in RETRYABLE_STREAM_ERRORS)
        )
        detail = _error_field(exc.body, "message") or exc.message
        kind = f" {error_type}" if error_type else ""
        if status < 400:
            # An error event inside a stream whose HTTP status was a success.
            description = f"stream error{kind}: {detail}"
            return Failure(retryable=retryable, status=None, description=description[:500])
        return Failure(
            retryable=retryable,
            status=status,
            description=f"HTTP {status}{kind}: {detail}"[:500],
            retry_after_s=parse_retry_after(exc.response.headers),
        )
    if isinstance(
        exc, anthropic.APITimeoutError | openai.APITimeoutError | httpx2.TimeoutException
    ):
        return Failure(retryable=True, status=None, description=f"timeout: {_cause(exc)}")
    if isinstance(exc, anthropic.APIConnectionError | openai.APIConnectionError):
        return Failure(retryable=True, status=None, description=f"connection error: {_cause(exc)}")
    if isinstance(exc, httpx2.TransportError):
        return Failure(retryable=True, status=None, description=f"connection error: {_cause(exc)}")
    if isinstance(exc, anthropic.APIError | openai.APIError):
        return Failure(retryable=False, status=None, description=f"API error: {exc.message}")
    return None


def parse_retry_after(headers: Any) -> float | None:
    """Seconds to wait from retry-after-ms or retry-after (seconds or an HTTP date)."""
    ms = headers.get("retry-after-ms")
    if ms is not None:
        try:
            return max(0.0, float(ms) / 1000)
        except ValueError:
            pass
    value = headers.get("retry-after")
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    parsed = email.utils.parsedate_tz(value)
    if parsed is None:
        return None
    return max(0.0, email.utils.mktime_tz(parsed) - time.time())


async def call_with_retries(
    provider: str, what: str, call: Callable[[], Awaitable[T]], policy: RetryPolicy
) -> T:
    """Run `call`, retrying transient failures; raise ModelError when it fails for good."""

    def wait(state: RetryCallState) -> float:
        failure = _failure_of(state)
        if failure is not None and failure.retry_after_s is not None:
            return min(failure.retry_after_s, policy.max_retry_after_s)
        return policy.backoff_s(state.attempt_number)

    def before_sleep(state: RetryCallState) -> None:
        failure = _failure_of(state)
        wait_s = state.next_action.sleep if state.next_action else 0.0
        info = RetryInfo(
            attempt=state.attempt_number,
            error=failure.description if failure else "unknown error",
            wait_s=wait_s,
            status=failure.status if failure else None,
        )
        log.warning(
            "model.retry",
            provider=provider,
            call=what,
            attempt=info.attempt,
            max_attempts=policy.max_attempts,
            status=info.status,
            wait_s=round(info.wait_s, 3),
            error=info.error,
        )
        sink = RETRY_SINK.get()
        if sink is not None:
            sink(info)

    retrying = AsyncRetrying(
        stop=stop_after_attempt(policy.max_attempts),
        wait=wait,
        retry=retry_if_exception(_is_retryable),
        before_sleep=before_sleep,
        reraise=True,
    )
    try:
        async for attempt in retrying:
            with attempt:
                return await call()
    except Exception as exc:
        failure = classify(exc)
        if failure is None:
            raise
        attempts = retrying.statistics.get("attempt_number", 1)
        why = "retries exhausted" if failure.retryable else "not retryable"
        raise ModelError(
            f"{provider} {what} failed: {failure.description} "
            f"({why} after {attempts} attempt{'s' if attempts != 1 else ''})"
        ) from exc
    raise AssertionError("unreachable: tenacity either returns or raises")


def _is_retryable(exc: BaseException) -> bool:
    failure = classify(exc)
    return failure is not None and failure.retryable


def _failure_of(state: RetryCallState) -> Failure | None:
    exc = state.outcome.exception() if state.outcome else None
    return classify(exc) if exc is not None else None


def _error_field(body: object, key: str) -> str | None:
    """`error.<key>` of an error body (OpenAI's SDK hands over the inner `error` object)."""
    error = body.get("error", body) if isinstance(body, dict) else None
    value = error.get(key) if isinstance(error, dict) else None
    return value if isinstance(value, str) else None


def _cause(exc: BaseException) -> str:
    cause = exc.__cause__ or exc.__context__
    if cause is not None and str(cause):
        return f"{type(cause).__name__}: {cause}"
    return f"{type(exc).__name__}: {exc}"
