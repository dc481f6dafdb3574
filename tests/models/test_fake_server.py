"""The fake LLM server itself: its standalone process mode and its empty-queue answer."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest
from anthropic import AsyncAnthropic
from openai import AsyncOpenAI

from planner.errors import ModelError
from planner.models import AnthropicModel, OpenAIChatModel
from planner.models.retry import RetryPolicy
from planner.testing import FakeLLMServer, Reply
from tests.models.conftest import TEST_PRICES, MakeModel
from tests.models.helpers import request

REPO = Path(__file__).resolve().parents[2]


async def test_empty_queue_is_a_clear_400(llm_server: FakeLLMServer, make_model: MakeModel) -> None:
    with pytest.raises(ModelError, match="no scripted reply left for request 0"):
        await make_model("chat").complete(request())


async def test_callable_replies_see_the_request(
    llm_server: FakeLLMServer, make_model: MakeModel
) -> None:
    llm_server.push(lambda req: Reply(text=f"you sent {len(req.body['messages'])} messages"))
    response = await make_model("anthropic").complete(request())
    assert response.text == "you sent 1 messages"


@pytest.mark.parametrize("kind", ["anthropic", "chat"])
async def test_a_passed_client_gets_sdk_retries_turned_off(
    kind: str, llm_server: FakeLLMServer
) -> None:
    llm_server.push(Reply.error(500), Reply(text="unused"))
    policy = RetryPolicy(max_attempts=1)
    model: AnthropicModel | OpenAIChatModel
    if kind == "anthropic":
        client = AsyncAnthropic(api_key="k", base_url=llm_server.base_url, max_retries=3)
        model = AnthropicModel("claude-test", client, retry=policy, prices=TEST_PRICES)
    else:
        oclient = AsyncOpenAI(api_key="k", base_url=llm_server.openai_base_url, max_retries=3)
        model = OpenAIChatModel("gpt-test", oclient, retry=policy, prices=TEST_PRICES)
    with pytest.raises(ModelError):
        await model.complete(request())
    assert len(llm_server.requests) == 1


async def test_standalone_process_serves_a_script_and_counts_requests(tmp_path: Path) -> None:
    script = tmp_path / "script.json"
    script.write_text(json.dumps({"replies": [{"text": "first"}], "default": {"text": "again"}}))
    port_file, count_file, log_file = (tmp_path / n for n in ("port", "count", "log.jsonl"))
    args = [sys.executable, "-m", "planner.testing.fake_llm", "--port", "0"]
    args += ["--port-file", str(port_file), "--script", str(script)]
    args += ["--count-file", str(count_file), "--log-file", str(log_file)]
    proc = subprocess.Popen(args, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 15
        while not (port_file.exists() and port_file.read_text()):
            assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
            assert time.monotonic() < deadline, "the fake server did not start"
            time.sleep(0.05)
        base_url = f"http://127.0.0.1:{port_file.read_text()}"
        model = AnthropicModel("claude-test", api_key="k", base_url=base_url, prices=TEST_PRICES)
        texts = [(await model.complete(request())).text for _ in range(2)]
        await model.aclose()
        assert texts == ["first", "again"]
        assert count_file.read_text() == "2"
        lines = [json.loads(line) for line in log_file.read_text().splitlines()]
        assert [(e["index"], e["api"]) for e in lines] == [(0, "anthropic"), (1, "anthropic")]
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_a_fake_server_leaves_the_process_logging_levels_alone() -> None:
    """Starting and stopping a server changes no logger's level: another uvicorn server or a
    test of the app's own logging in the same process sees the levels it set."""
    import logging

    names = ["uvicorn", "uvicorn.error", "uvicorn.access", "uvicorn.asgi"]
    loggers = [logging.getLogger(n) for n in names]
    saved = [lg.level for lg in loggers]
    try:
        for lg in loggers:
            lg.setLevel(logging.INFO)
        server = FakeLLMServer().start()
        try:
            assert [lg.level for lg in loggers] == [logging.INFO] * len(names)
        finally:
            server.stop()
        assert [lg.level for lg in loggers] == [logging.INFO] * len(names)
    finally:
        for lg, level in zip(loggers, saved, strict=True):
            lg.setLevel(level)
