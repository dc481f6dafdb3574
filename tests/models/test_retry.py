"""The shared retry policy: classification, retry-after, backoff, events."""

from __future__ import annotations

import email.utils
import time

import anthropic
import httpx2
import openai
import pytest
from structlog.testing import capture_logs

from planner.errors import ModelError
from planner.models.retry import RetryPolicy, call_with_retries, classify, parse_retry_after
from tests.models.helpers import capture_retries

REQUEST = httpx2.Request("POST", "http://127.0.0.1/v1/messages")
FAST = RetryPolicy(max_attempts=3, initial_wait_s=0.001, max_wait_s=0.002, jitter_s=0)


def anthropic_status(status: int, headers: dict[str, str] | None = None) -> Exception:
    response = httpx2.Response(status, headers=headers or {}, request=REQUEST)
    body = {"type": "error", "error": {"type": "x_error", "message": "m"}}
    return anthropic.APIStatusError("m", response=response, body=body)


def openai_status(status: int) -> Exception:
    response = httpx2.Response(status, request=REQUEST)
    return openai.APIStatusError("m", response=response, body={"message": "m", "type": "t"})


@pytest.mark.parametrize("status", [408, 409, 429, 500, 502, 503, 504, 529])
def test_transient_statuses_are_retryable(status: int) -> None:
    for exc in (anthropic_status(status), openai_status(status)):
        failure = classify(exc)
        assert failure is not None and failure.retryable
        assert failure.status == status


@pytest.mark.parametrize("status", [400, 401, 403, 404, 422])
def test_client_statuses_are_not(status: int) -> None:
    for exc in (anthropic_status(status), openai_status(status)):
        failure = classify(exc)
        assert failure is not None and not failure.retryable


def test_connection_and_timeout_errors_are_retryable() -> None:
    for exc in (
        anthropic.APIConnectionError(request=REQUEST),
        anthropic.APITimeoutError(request=REQUEST),
        openai.APIConnectionError(request=REQUEST),
        openai.APITimeoutError(request=REQUEST),
        httpx2.RemoteProtocolError("peer closed connection"),
        httpx2.ReadTimeout("slow"),
    ):
        failure = classify(exc)
        assert failure is not None and failure.retryable and failure.status is None


def test_other_exceptions_are_not_classified() -> None:
    assert classify(ValueError("bug")) is None


def test_retry_after_forms() -> None:
    assert parse_retry_after({"retry-after-ms": "250"}) == 0.25
    assert parse_retry_after({"retry-after": "3"}) == 3.0
    assert parse_retry_after({"retry-after": "1.5"}) == 1.5
    future = email.utils.formatdate(time.time() + 30, usegmt=True)
    assert 25 < (parse_retry_after({"retry-after": future}) or 0) <= 31
    assert parse_retry_after({"retry-after": "soon"}) is None
    assert parse_retry_after({}) is None


def test_backoff_grows_and_is_capped() -> None:
    policy = RetryPolicy(initial_wait_s=1, max_wait_s=5, jitter_s=0)
    assert [policy.backoff_s(n) for n in (1, 2, 3, 4)] == [1, 2, 4, 5]
    jittered = RetryPolicy(initial_wait_s=1, max_wait_s=5, jitter_s=0.5)
    assert 1 <= jittered.backoff_s(1) <= 1.5


async def test_retry_after_is_capped_by_policy() -> None:
    calls = 0

    async def call() -> str:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise anthropic_status(429, {"retry-after": "3600"})
        return "ok"

    policy = RetryPolicy(max_attempts=2, max_retry_after_s=0.01)
    with capture_retries() as retries:
        assert await call_with_retries("anthropic", "x", call, policy) == "ok"
    assert retries[0].wait_s == 0.01


async def test_each_retry_is_a_structlog_event() -> None:
    async def call() -> str:
        raise openai_status(503)

    with capture_logs() as logs, pytest.raises(ModelError) as caught:
        await call_with_retries("openai", "chat.completions.create", call, FAST)
    events = [e for e in logs if e["event"] == "model.retry"]
    assert [(e["attempt"], e["status"], e["provider"]) for e in events] == [
        (1, 503, "openai"),
        (2, 503, "openai"),
    ]
    assert "retries exhausted after 3 attempts" in str(caught.value)
    assert isinstance(caught.value.__cause__, openai.APIStatusError)


async def test_a_bug_is_neither_retried_nor_wrapped() -> None:
    calls = 0

    async def call() -> str:
        nonlocal calls
        calls += 1
        raise KeyError("oops")

    with pytest.raises(KeyError):
        await call_with_retries("anthropic", "x", call, FAST)
    assert calls == 1
