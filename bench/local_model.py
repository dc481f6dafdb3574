"""The local-model recipe of docs/models.md, checked against a running OpenAI-compatible server.

    python -m bench.local_model --base-url http://127.0.0.1:8080/v1 [--model NAME]

Runs one small task (the demo weather tool offered, `tool_calls_from_text` on) through the
planner loop and prints each call (native or read from text) and the answer. An integration
check, never part of `make test`: with no server answering it says so and exits 0; it exits 1
when the server answered but the model never called the tool.
"""

from __future__ import annotations

import argparse
import os

import anyio
import httpx

from missions.demo_tools import demo_registry
from planner import PlannerLoopInput, PolicyGate, ToolContext, run_planner_loop
from planner.logging import configure_logging
from planner.models import from_spec

PROMPT = "What is the weather in Lisbon today? Use the tool, then answer in one sentence."


def server_answers(base_url: str) -> bool:
    """True when `GET {base_url}/models` answers at all."""
    try:
        httpx.get(f"{base_url.rstrip('/')}/models", timeout=10.0)
    except httpx.HTTPError:
        return False
    return True


async def check(base_url: str, model_name: str) -> int:
    """Run the task; 0 when the tool was called, 1 when it was not."""
    model = from_spec(
        f"openai:{model_name}",
        base_url=base_url,
        temperature=0.2,
        max_output_tokens=512,
        tool_calls_from_text=True,
    )
    tools = demo_registry().filter(lambda spec: spec.name == "demo.weather")
    try:
        result = await run_planner_loop(
            PlannerLoopInput(
                model=model,
                system_prompt="You are a concise assistant. Use tools for facts.",
                user_prompt=PROMPT,
                tools=tools,
                context=ToolContext(user_id="bench", space_id="bench", run_id="local-model"),
                policy=PolicyGate(),
                max_rounds=4,
            )
        )
    finally:
        await model.aclose()  # type: ignore[attr-defined]
    for executed in result.executed_calls:
        how = "from text" if executed.call.from_text else "native"
        print(f"call {executed.call.name} ({how}): ok={executed.result.success}")
    print(f"stop: {result.stop_reason.value}; answer: {result.summary[:300]!r}")
    return 0 if result.executed_calls else 1


def main() -> None:
    """Parse arguments, skip without a server, run the check."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    default_url = os.environ.get("OPENAI_BASE_URL", "http://127.0.0.1:8080/v1")
    parser.add_argument("--base-url", default=default_url)
    parser.add_argument("--model", default="local")
    args = parser.parse_args()
    configure_logging("warning")
    if not server_answers(args.base_url):
        print(f"no OpenAI-compatible server at {args.base_url}: skipped")
        return
    raise SystemExit(anyio.run(check, args.base_url, args.model))


if __name__ == "__main__":
    main()
