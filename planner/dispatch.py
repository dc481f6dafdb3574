"""The one call pipeline: resolve -> validate -> gate -> record -> execute, for every caller.

The loop runs a round through `dispatch_round`, the gateway and proposal approval run one call
through `dispatch_call`; both write a call's `tool_call` event when it starts and its
`tool_result` event when it ends.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from pydantic import BaseModel, ValidationError

from planner.errors import TranscriptError
from planner.jsondata import json_problem
from planner.logging import debug_enabled, get_logger
from planner.messages import Message, ModelResponse, ToolCall, Usage, tool_result_content
from planner.policy import PolicyDecision, PolicyGate
from planner.tools import AnyToolSpec, ToolContext, ToolRegistry, ToolResult
from planner.transcript import (
    AnyEvent,
    PolicyEvent,
    ToolCallEvent,
    ToolResultEvent,
    Transcript,
    event_class,
    hold_and_flush,
)

PARALLEL_TOOL_BATCH_SIZE = 10

ParallelSafe = Callable[[AnyToolSpec], bool]
log = get_logger("planner.dispatch")


@dataclass(frozen=True)
class ExecutedCall:
    """One dispatched call and what the model was told about it."""

    round: int
    call: ToolCall
    result: ToolResult
    duration_ms: float = 0.0
    decision: PolicyDecision | None = None

    def to_message(self) -> Message:
        """The tool message appended to history for this call."""
        return Message(
            role="tool",
            tool_call_id=self.call.id,
            name=self.call.name,
            content=tool_result_content(self.result.success, self.result.message, self.result.data),
            is_error=not self.result.success,
        )


@dataclass(frozen=True)
class RoundDispatch:
    """Everything the pipeline needs besides the calls themselves."""

    registry: ToolRegistry
    context: ToolContext
    gate: PolicyGate | None = None
    is_parallel_safe: ParallelSafe | None = None
    transcript: Transcript | None = None
    run_id: str = ""
    path: str = ""
    hold: Callable[[AnyEvent], None] = field(init=False, repr=False, compare=False)
    """The transcript's `hold`, or its `record` when it does not batch (see hold_and_flush)."""
    flush: Callable[[], None] = field(init=False, repr=False, compare=False)
    """Write what `hold` kept (a no-op for a transcript that does not batch)."""
    debug: bool = field(init=False, repr=False, compare=False)
    """Whether debug events are logged, read once per round (see debug_enabled)."""

    def __post_init__(self) -> None:
        hold, flush = hold_and_flush(self.transcript)
        object.__setattr__(self, "hold", hold)
        object.__setattr__(self, "flush", flush)
        object.__setattr__(self, "debug", debug_enabled())


def error_result(message: str) -> ToolResult:
    """An error result the model reads and can react to."""
    return ToolResult(success=False, message=message)


def validation_message(exc: ValidationError) -> str:
    """A concise, model-readable summary of why arguments failed the input model."""
    parts = []
    for err in exc.errors()[:5]:
        loc = ".".join(str(x) for x in err.get("loc", ())) or "arguments"
        parts.append(f"{loc}: {err.get('msg')}")
    more = f" (+{exc.error_count() - 5} more)" if exc.error_count() > 5 else ""
    return "invalid arguments: " + "; ".join(parts) + more


def checked_call(call: ToolCall) -> ToolCall:
    """The call, or a copy with no arguments and an arguments error when they are not JSON
    data within the nesting limit (so they can be neither recorded nor run)."""
    if call.arguments_error is not None:
        return call
    problem = json_problem(call.arguments)
    if problem is None:
        return call
    return call.model_copy(update={"arguments": {}, "arguments_error": f"arguments: {problem}"})


def checked_response(response: ModelResponse) -> ModelResponse:
    """The response with every call's arguments checked (see checked_call)."""
    calls = [checked_call(c) for c in response.tool_calls]
    if all(a is b for a, b in zip(calls, response.tool_calls, strict=True)):
        return response
    return response.model_copy(update={"tool_calls": calls})


async def dispatch_round(
    round_no: int, calls: Sequence[ToolCall], setup: RoundDispatch
) -> list[ExecutedCall]:
    """Run one round's calls through the pipeline; results come back in source order.
    The calls are a response's as `checked_response` left them (not checked again).

    The lines of the round's last calls may still be held (see FileTranscript.hold) when
    this returns: the caller flushes them with what it records next, before it waits on
    anything (the loop does before its next model call and at the end of the run).
    """
    if len(calls) > 1 and _runs_in_parallel(calls, setup):
        return await _in_window(round_no, calls, setup)
    done = []
    for call in calls:
        executed = await _dispatch(setup, call, round_no, checked=True)
        done.append(executed)
        setup = _spent(setup, executed.result.usage)
    return done


async def _in_window(
    round_no: int, calls: Sequence[ToolCall], setup: RoundDispatch
) -> list[ExecutedCall]:
    """A sliding window: at most PARALLEL_TOOL_BATCH_SIZE workers, each taking the next call
    in source order as soon as it is free; results are kept by index.

    This task is the first worker; the others start as soon as a call waits (one event-loop
    tick after it), so a round whose calls all finish without waiting creates no task. A
    worker that ends while others may still wait has its held lines written at the end of
    this event-loop tick, before the loop waits again: calls that end in the same tick
    share one write.
    """
    done: list[ExecutedCall | None] = [None] * len(calls)
    queue = iter(enumerate(calls))
    widened: list[bool] = []
    loop = asyncio.get_running_loop()

    async def worker() -> None:
        for i, call in queue:
            done[i] = await _dispatch(setup, call, round_no, checked=True)
        if widened:
            loop.call_soon(setup.flush)

    async with asyncio.TaskGroup() as tg:

        def widen() -> None:
            widened.append(True)
            for _ in range(min(PARALLEL_TOOL_BATCH_SIZE, len(calls)) - 1):
                tg.create_task(worker())

        waited = loop.call_soon(widen)
        try:
            await worker()
        finally:
            waited.cancel()
    return [e for e in done if e is not None]


def _spent(setup: RoundDispatch, usage: Usage | None) -> RoundDispatch:
    """The setup with a tool's reported usage taken off the budgets later calls see."""
    ctx = setup.context
    if usage is None or (ctx.token_budget_left is None and ctx.cost_budget_left_usd is None):
        return setup
    tokens, cost = ctx.token_budget_left, ctx.cost_budget_left_usd
    left = replace(
        ctx,
        token_budget_left=None if tokens is None else tokens - usage.total_tokens,
        cost_budget_left_usd=None if cost is None else cost - usage.cost_usd,
    )
    return replace(setup, context=left)


def _runs_in_parallel(calls: Sequence[ToolCall], setup: RoundDispatch) -> bool:
    """True when a predicate is set and every call in the round is parallel-safe."""
    predicate = setup.is_parallel_safe
    if predicate is None:
        return False
    for call in calls:
        spec = setup.registry.get(call.name)
        if spec is None:
            continue
        per_call = spec.parallel_safe_for
        if not (predicate(spec) and (per_call is None or per_call(call.arguments))):
            return False
    return True


async def dispatch_call(setup: RoundDispatch, call: ToolCall, round_no: int = 0) -> ExecutedCall:
    """One call through the whole pipeline; any failure is an error result, never a raise.
    Its events are written (none held) when it returns."""
    executed = await _dispatch(setup, call, round_no)
    setup.flush()
    return executed


async def _dispatch(
    setup: RoundDispatch, call: ToolCall, round_no: int, *, checked: bool = False
) -> ExecutedCall:
    """dispatch_call, its last lines possibly held: the tool_call and policy lines are
    written before the handler runs, the tool_result line with what comes next."""
    start = time.perf_counter()
    call = _record_call(setup, call if checked else checked_call(call), round_no)
    try:
        result, decision = await _run(setup, call, round_no)
    except Exception as exc:  # a broken gate or registry must not end the caller's run
        log.warning("dispatch.error", tool=call.name, error=type(exc).__name__)
        result, decision = error_result(f"dispatch failed: {type(exc).__name__}: {exc}"), None
    duration_ms = (time.perf_counter() - start) * 1000
    result = _record_result(setup, call, round_no, result, duration_ms)
    if setup.debug:
        log.debug("tool.result", tool=call.name, ok=result.success, duration_ms=round(duration_ms))
    return ExecutedCall(round_no, call, result, duration_ms, decision)


async def _run(
    setup: RoundDispatch, call: ToolCall, round_no: int
) -> tuple[ToolResult, PolicyDecision | None]:
    """Resolve, validate, gate (which records the invocation) and execute one call."""
    spec = setup.registry.get(call.name)
    if spec is None:
        known = ", ".join(setup.registry.names) or "none"
        return error_result(f"unknown tool {call.name!r}; available tools: {known}"), None
    if call.arguments_error is not None:
        return error_result(call.arguments_error), None
    prepared = validate(spec, call.arguments)
    if isinstance(prepared, ToolResult):
        return prepared, None
    decision = None
    if setup.gate is not None:
        decision = setup.gate.evaluate(spec, setup.context, call.arguments)
        _record(
            setup,
            _POLICY,
            round=round_no,
            call_id=call.id,
            tool=spec.name,
            verdict=decision.verdict,
            reason=decision.reason,
            flagged=decision.flagged,
            mode=decision.mode.value,
        )
        if not decision.allow:
            return error_result(decision.denial_message(spec.name)), decision
    ctx = for_call(setup.context, call.id, setup.path)
    setup.flush()  # the call's lines are on disk before its handler can act
    return await execute(spec, ctx, prepared.payload), decision


def for_call(ctx: ToolContext, call_id: str, transcript_path: str) -> ToolContext:
    """`replace(ctx, call_id=..., transcript_path=...)` at an eighth of its cost, once a call.

    ToolContext is a frozen dataclass with no __post_init__ (and no slots), so copying its
    fields is all that dataclasses.replace would do, without its per-field __init__ checks.
    """
    new = object.__new__(ToolContext)
    new.__dict__.update(ctx.__dict__, call_id=call_id, transcript_path=transcript_path)
    return new


@dataclass(frozen=True)
class Prepared:
    """A call whose arguments passed the input model."""

    spec: AnyToolSpec
    payload: BaseModel


def validate(spec: AnyToolSpec, arguments: dict[str, Any]) -> ToolResult | Prepared:
    """Check arguments against the input model; a concise error result when they fail."""
    try:
        return Prepared(spec, spec.input_model.model_validate(arguments))
    except ValidationError as exc:
        return error_result(validation_message(exc))


def _record_call(setup: RoundDispatch, call: ToolCall, round_no: int) -> ToolCall:
    """Write the tool_call event; arguments the transcript refuses become an arguments error."""
    try:
        _record(
            setup,
            _TOOL_CALL,
            round=round_no,
            call_id=call.id,
            name=call.name,
            arguments=call.arguments,
        )
    except TranscriptError as exc:
        call = call.model_copy(update={"arguments": {}, "arguments_error": f"arguments: {exc}"})
        _record(setup, _TOOL_CALL, round=round_no, call_id=call.id, name=call.name)
    return call


def _record_result(
    setup: RoundDispatch, call: ToolCall, round_no: int, result: ToolResult, duration_ms: float
) -> ToolResult:
    """Write the tool_result event; a result the transcript refuses becomes an error result."""
    fields: dict[str, Any] = {
        "round": round_no,
        "call_id": call.id,
        "name": call.name,
        "duration_ms": round(duration_ms, 3),
        "usage": result.usage,
    }
    try:
        _record(
            setup,
            _TOOL_RESULT,
            success=result.success,
            message=result.message,
            data=result.data,
            **fields,
        )
    except TranscriptError as exc:
        message = f"tool {call.name} returned output the transcript refuses: {exc}"
        result = ToolResult(success=False, message=message, usage=result.usage)
        _record(setup, _TOOL_RESULT, success=False, message=message, **fields)
    return result


async def execute(spec: AnyToolSpec, ctx: ToolContext, payload: BaseModel) -> ToolResult:
    """Run a handler under its timeout; any failure becomes an error result."""
    try:
        async with asyncio.timeout(spec.timeout_s):
            output = await spec.handler(ctx, payload)
    except TimeoutError:
        return error_result(f"tool {spec.name} timed out after {spec.timeout_s:g}s")
    except Exception as exc:
        log.info("tool.error", tool=spec.name, error=type(exc).__name__, detail=str(exc))
        return error_result(f"{type(exc).__name__}: {exc}")
    return to_result(spec, output)


def to_result(spec: AnyToolSpec, output: Any) -> ToolResult:
    """Turn a handler's output into a ToolResult whose data is plain JSON (or an error)."""
    result = output if isinstance(output, ToolResult) else _from_model(spec, output)
    if not isinstance(result.success, bool) or not isinstance(result.message, str):
        return error_result(f"tool {spec.name} returned a malformed ToolResult")
    if result.usage is not None and not isinstance(result.usage, Usage):
        return error_result(f"tool {spec.name} returned a ToolResult whose usage is no Usage")
    problem = json_problem(result.data)
    if problem is not None:
        return error_result(f"tool {spec.name} returned data that is not JSON: {problem}")
    return result


def _from_model(spec: AnyToolSpec, output: Any) -> ToolResult:
    """A handler's output model (or what validates as one) as a successful result."""
    try:
        if not isinstance(output, spec.output_model):
            output = spec.output_model.model_validate(output)
        data = output.model_dump(mode="json")
    except ValidationError as exc:
        return error_result(f"tool {spec.name} returned invalid output: {exc.error_count()} errors")
    except Exception as exc:  # a field pydantic cannot dump as JSON
        return error_result(f"tool {spec.name} returned output that is not JSON: {exc}")
    return ToolResult(success=True, message="ok", data=data)


_POLICY = event_class(PolicyEvent)
_TOOL_CALL = event_class(ToolCallEvent)
_TOOL_RESULT = event_class(ToolResultEvent)


def _record(setup: RoundDispatch, kind: type[AnyEvent], /, **fields: Any) -> None:
    """Hold one event of this run for the next flush (a transcript that does not batch
    writes it now); built only when a transcript is attached."""
    if setup.transcript is not None:
        setup.hold(kind(run_id=setup.run_id, path=setup.path, **fields))
