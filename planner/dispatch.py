"""Runs one round's tool calls: gate -> validate -> execute, results kept in source order."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ValidationError

from planner.logging import debug_enabled, get_logger
from planner.messages import Message, ToolCall, tool_result_content
from planner.policy import PolicyDecision, PolicyGate
from planner.tools import AnyToolSpec, ToolContext, ToolRegistry, ToolResult
from planner.transcript import PolicyEvent, ToolCallEvent, ToolResultEvent, Transcript

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
class _Prepared:
    """A call that passed the gate and validation, ready to run."""

    spec: AnyToolSpec
    payload: BaseModel


@dataclass(frozen=True)
class RoundDispatch:
    """Everything dispatch needs besides the calls themselves."""

    registry: ToolRegistry
    context: ToolContext
    gate: PolicyGate | None
    is_parallel_safe: ParallelSafe | None
    transcript: Transcript | None
    run_id: str = ""
    path: str = ""


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


async def dispatch_round(
    round_no: int, calls: Sequence[ToolCall], setup: RoundDispatch
) -> list[ExecutedCall]:
    """Gate, validate and run one round's calls; results come back in source order."""
    outcomes: list[ToolResult | _Prepared] = []
    decisions: list[PolicyDecision | None] = []
    for call in calls:
        _record(
            setup,
            ToolCallEvent,
            round=round_no,
            call_id=call.id,
            name=call.name,
            arguments=call.arguments,
        )
        outcome, decision = _prepare(round_no, call, setup)
        outcomes.append(outcome)
        decisions.append(decision)

    results: list[ToolResult | None] = [o if isinstance(o, ToolResult) else None for o in outcomes]
    durations = [0.0] * len(calls)

    async def run_one(i: int, prepared: _Prepared) -> None:
        start = time.perf_counter()
        base = setup.context
        ctx = ToolContext(base.user_id, base.space_id, base.run_id, base.invoker, calls[i].id)
        results[i] = await execute(prepared.spec, ctx, prepared.payload)
        durations[i] = (time.perf_counter() - start) * 1000

    pending = [(i, o) for i, o in enumerate(outcomes) if isinstance(o, _Prepared)]
    if len(pending) > 1 and _runs_in_parallel(calls, setup):
        # a sliding window: at most PARALLEL_TOOL_BATCH_SIZE workers, each taking the next
        # call in source order as soon as it is free (no limiter, one task per slot)
        queue = iter(pending)

        async def worker() -> None:
            for i, prepared in queue:
                await run_one(i, prepared)

        async with asyncio.TaskGroup() as tg:
            for _ in range(min(PARALLEL_TOOL_BATCH_SIZE, len(pending)) - 1):
                tg.create_task(worker())
            await worker()
    else:
        for i, prepared in pending:
            await run_one(i, prepared)

    executed = []
    debug = debug_enabled()
    for i, call in enumerate(calls):
        result = results[i]
        assert result is not None
        _record(
            setup,
            ToolResultEvent,
            round=round_no,
            call_id=call.id,
            name=call.name,
            success=result.success,
            message=result.message,
            data=result.data,
            duration_ms=round(durations[i], 3),
        )
        if debug:
            log.debug(
                "tool.result", tool=call.name, ok=result.success, duration_ms=round(durations[i], 1)
            )
        executed.append(ExecutedCall(round_no, call, result, durations[i], decisions[i]))
    return executed


def _runs_in_parallel(calls: Sequence[ToolCall], setup: RoundDispatch) -> bool:
    """True when a predicate is set, the round has 2+ calls and every call is safe."""
    predicate = setup.is_parallel_safe
    if predicate is None or len(calls) < 2:
        return False
    for call in calls:
        spec = setup.registry.get(call.name)
        if spec is None:
            continue
        per_call = spec.parallel_safe_for
        safe = predicate(spec) and (per_call is None or per_call(call.arguments))
        if not safe:
            return False
    return True


def _prepare(
    round_no: int, call: ToolCall, setup: RoundDispatch
) -> tuple[ToolResult | _Prepared, PolicyDecision | None]:
    """Resolve, gate and validate one call; an error result when any step refuses it."""
    spec = setup.registry.get(call.name)
    if spec is None:
        known = ", ".join(setup.registry.names) or "none"
        return error_result(f"unknown tool {call.name!r}; available tools: {known}"), None
    if call.arguments_error is not None:
        return error_result(call.arguments_error), None
    decision = None
    if setup.gate is not None:
        decision = setup.gate.evaluate(spec, setup.context, call.arguments)
        _record(
            setup,
            PolicyEvent,
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
    return validate(spec, call.arguments), decision


def validate(spec: AnyToolSpec, arguments: dict[str, Any]) -> ToolResult | _Prepared:
    """Check arguments against the input model; a concise error result when they fail."""
    try:
        return _Prepared(spec, spec.input_model.model_validate(arguments))
    except ValidationError as exc:
        return error_result(validation_message(exc))


async def call_tool(
    spec: AnyToolSpec, ctx: ToolContext, gate: PolicyGate | None, arguments: dict[str, Any]
) -> ToolResult:
    """One call outside a round (an approved proposal): gate, validate, execute."""
    if gate is not None:
        decision = gate.evaluate(spec, ctx, arguments)
        if not decision.allow:
            return error_result(decision.denial_message(spec.name))
    prepared = validate(spec, arguments)
    if isinstance(prepared, ToolResult):
        return prepared
    return await execute(spec, ctx, prepared.payload)


async def execute(spec: AnyToolSpec, ctx: ToolContext, payload: BaseModel) -> ToolResult:
    """Run a handler under its timeout; any failure becomes an error result."""
    try:
        async with asyncio.timeout(spec.timeout_s):
            output = await spec.handler(ctx, payload)
    except TimeoutError:
        return error_result(f"tool {spec.name} timed out after {spec.timeout_s:g}s")
    except Exception as exc:
        log.info("tool.error", tool=spec.name, error=f"{type(exc).__name__}: {exc}")
        return error_result(f"{type(exc).__name__}: {exc}")
    return to_result(spec, output)


def to_result(spec: AnyToolSpec, output: Any) -> ToolResult:
    """Turn a handler's output into a ToolResult (a ToolResult passes through)."""
    if isinstance(output, ToolResult):
        return output
    if not isinstance(output, spec.output_model):
        try:
            output = spec.output_model.model_validate(output)
        except ValidationError as exc:
            return error_result(
                f"tool {spec.name} returned invalid output: {exc.error_count()} errors"
            )
    return ToolResult(success=True, message="ok", data=output.model_dump(mode="json"))


def _record(setup: RoundDispatch, event_type: type[Any], **fields: Any) -> None:
    if setup.transcript is not None:
        setup.transcript.record(event_type(run_id=setup.run_id, path=setup.path, **fields))
