"""The planner loop: request, answer, gate and run tools, repeat until a typed stop.

What a run is given and returns (PlannerLoopInput, PlannerLoopResult) lives in planner.loop_io.
"""

from __future__ import annotations

import contextlib
import time
from collections import Counter
from dataclasses import asdict, replace
from typing import Any

import anyio
import structlog

from planner.compaction import COMPACTION_THRESHOLD
from planner.dispatch import (
    ExecutedCall,
    RoundDispatch,
    checked_response,
    dispatch_round,
)
from planner.errors import TranscriptError
from planner.logging import debug_enabled, get_logger
from planner.loop_io import PlannerLoopInput, PlannerLoopResult
from planner.messages import Message, ModelRequest, ModelResponse, Usage, reminder_message
from planner.models.base import DELTA_SINK, RETRY_SINK, RetryInfo, stamped_deltas
from planner.output import OutputCheck
from planner.runinfo import loop_settings
from planner.state import (
    LastCall,
    LoopState,
    Reminder,
    StopReason,
    StopRun,
    call_channel,
    policy_flag_reminders,
)
from planner.tools import ToolContext
from planner.transcript import (
    CompactionEvent,
    RequestEvent,
    ResponseEvent,
    RetryEvent,
    RunFinished,
    RunStarted,
    ToolInfo,
    hold_and_flush,
    new_event,
)

__all__ = ["PlannerLoopInput", "PlannerLoopResult", "run_planner_loop"]

RECENT_CALLS = 5
_NO_SCOPE = contextlib.nullcontext()
log = get_logger("planner.loop")


class _Run:
    """One run's mutable state; each method is one step of the contract."""

    def __init__(self, inp: PlannerLoopInput) -> None:
        self.inp = inp
        self.run_id = inp.context.run_id
        # one logger per run: the module-level lazy proxy assembles a new one on every call
        self.log = log.bind()
        self.messages: list[Message] = [
            *inp.prior_messages,
            Message(role="user", content=inp.user_prompt),
        ]
        self.sent_upto = 0
        self.history_reset = False
        self.round = 0
        self.usage = Usage()
        self.executed: list[ExecutedCall] = []
        self.summary = ""
        self.last_input_tokens = 0
        self.compactions = 0
        self.reminder_counts: Counter[str] = Counter()
        self.flagged: tuple[str, ...] = ()
        self.tools = inp.tools
        self.outputs = OutputCheck(inp.output_model)
        self.hold, self.flush = hold_and_flush(inp.transcript)

    def record(self, event_type: type[Any], **fields: Any) -> None:
        """Hold one transcript event for the next flush, when a transcript is attached; an
        event the transcript refuses (see FileTranscript.hold) ends the run with an error.

        The run flushes before anything it waits on (a model call, a reminder channel,
        compaction, a tool's handler) and at its end, so each event is on disk before
        anything that could be lost happens.
        """
        if self.inp.transcript is None:
            return
        event = new_event(event_type, run_id=self.run_id, path=self.inp.transcript_path, **fields)
        try:
            self.hold(event)
        except TranscriptError as exc:
            raise StopRun(StopReason.MODEL_ERROR, str(exc)) from exc

    def dispatch_setup(self) -> RoundDispatch:
        """This round's dispatch setup; its context holds what is left of the budgets."""
        inp, used = self.inp, self.usage
        tokens, cost = inp.token_budget, inp.cost_budget_usd
        context = inp.context
        if tokens is not None or cost is not None or _budgets_set(context):
            context = replace(
                context,
                token_budget_left=None if tokens is None else tokens - used.total_tokens,
                cost_budget_left_usd=None if cost is None else cost - used.cost_usd,
            )
        return RoundDispatch(
            registry=self.tools,
            context=context,
            gate=inp.policy,
            is_parallel_safe=inp.is_parallel_safe,
            transcript=inp.transcript,
            run_id=self.run_id,
            path=inp.transcript_path,
        )

    def state(self) -> LoopState:
        """Snapshot for the reminder channel."""
        recent = tuple(
            LastCall(e.call.name, e.result.success, e.duration_ms, e.result.message)
            for e in self.executed[-RECENT_CALLS:]
        )
        return LoopState(
            round=self.round,
            tool_call_count=len(self.executed),
            usage=self.usage,
            last_call=recent[-1] if recent else None,
            recent_calls=recent,
            compactions_done=self.compactions,
            max_rounds=self.inp.max_rounds,
            flagged_tools=self.flagged,
        )

    async def maybe_compact(self) -> None:
        """Compact once per run when the last request filled 92% of the context."""
        compactor = self.inp.compactor
        if compactor is None or self.compactions:
            return
        if self.last_input_tokens < COMPACTION_THRESHOLD * compactor.max_context_tokens:
            return
        before = len(self.messages)
        self.flush()
        try:
            done = await compactor.compact(
                self.inp.system_prompt, self.messages, self.tools.schemas()
            )
        except Exception as exc:
            raise StopRun(
                StopReason.MODEL_ERROR, f"compaction failed: {type(exc).__name__}: {exc}"
            ) from exc
        self.usage = self.usage + done.usage
        self.messages = done.messages
        self.compactions += 1
        self.history_reset = True
        self.record(
            CompactionEvent,
            round=self.round,
            removed=before - len(self.messages) + 1,
            summary=self.messages[0].content if self.messages else "",
        )

    async def reminders(self) -> list[Reminder]:
        """Call the channel once, plus the built-in policy-flag producer (the state they
        read is built only when there is a channel or a flagged call)."""
        channel = self.inp.reminder_channel
        if channel is None and not self.flagged:
            return []
        state = self.state()
        found = []
        if channel is not None:
            self.flush()
            found = await call_channel(channel, state)
        if not any(r.source == "policy" for r in found):
            found = policy_flag_reminders(state) + found
        self.reminder_counts.update(r.source for r in found)
        return found

    def build_request(self, reminders: list[Reminder]) -> ModelRequest:
        """History plus this round's transient reminders; record what was added."""
        start = 0 if self.history_reset else self.sent_upto
        self.record(
            RequestEvent,
            round=self.round,
            messages_added=self.messages[start:],
            reminders=[r.text for r in reminders],
        )
        self.sent_upto = len(self.messages)
        self.history_reset = False
        return ModelRequest(
            system_prompt=self.inp.system_prompt,
            messages=(*self.messages, *(reminder_message(r.text) for r in reminders)),
            tools=self.tools.schemas(),
            round=self.round,
            output=self.outputs.schema,
        )

    async def call_model(self, request: ModelRequest) -> ModelResponse:
        """One model call; retries are the adapter's, and each is recorded here."""

        def on_retry(info: RetryInfo) -> None:
            self.record(RetryEvent, round=self.round, **asdict(info))
            self.flush()

        token = RETRY_SINK.set(on_retry)
        self.flush()
        started = time.perf_counter()
        try:
            if DELTA_SINK.get() is None:
                response = await self.inp.model.complete(request)
            else:
                with stamped_deltas(self.round, self.inp.transcript_path):
                    response = await self.inp.model.complete(request)
        except Exception as exc:
            raise StopRun(StopReason.MODEL_ERROR, f"{type(exc).__name__}: {exc}") from exc
        finally:
            RETRY_SINK.reset(token)
        if not response.latency_ms:
            response = response.model_copy(
                update={"latency_ms": (time.perf_counter() - started) * 1000}
            )
        response = checked_response(response)
        self.usage = self.usage + response.usage
        u = response.usage
        # adapters report uncached input; the prompt's size includes the cached parts
        self.last_input_tokens = u.input_tokens + u.cache_read_tokens + u.cache_write_tokens
        if debug_enabled():
            self._log_response(response)
        self.record(
            ResponseEvent,
            round=self.round,
            text=response.text,
            tool_calls=list(response.tool_calls),
            usage=response.usage,
            stop_reason=response.stop_reason,
            latency_ms=round(response.latency_ms, 3),
            model=response.model,
        )
        return response

    def _log_response(self, response: ModelResponse) -> None:
        """The model.response debug event (no content: counts, tokens, latency)."""
        u = response.usage
        self.log.debug(
            "model.response",
            model=response.model,
            tool_calls=len(response.tool_calls),
            input_tokens=u.input_tokens,
            output_tokens=u.output_tokens,
            latency_ms=round(response.latency_ms, 1),
            stop_reason=response.stop_reason,
        )

    async def dispatch_calls(self, response: ModelResponse) -> None:
        """Run the round's calls and append their results in source order."""
        calls = response.tool_calls
        limit = self.inp.max_tool_calls
        if limit is not None and len(self.executed) + len(calls) > limit:
            raise StopRun(StopReason.MAX_TOOL_CALLS)
        done = await dispatch_round(self.round, calls, self.dispatch_setup())
        for executed in done:
            if executed.result.usage is not None:
                self.usage = self.usage + executed.result.usage
        self.executed.extend(done)
        self.messages.extend(e.to_message() for e in done)
        self.flagged = tuple(
            e.call.name for e in done if e.decision is not None and e.decision.flagged
        )

    def check_limits(self) -> None:
        """End the run when a budget or the round limit is reached."""
        if self.inp.token_budget is not None and self.usage.total_tokens >= self.inp.token_budget:
            raise StopRun(StopReason.BUDGET_EXHAUSTED)
        cost_budget = self.inp.cost_budget_usd
        if cost_budget is not None and self.usage.cost_usd >= cost_budget:
            raise StopRun(StopReason.BUDGET_EXHAUSTED)
        if self.round >= self.inp.max_rounds:
            raise StopRun(StopReason.MAX_ROUNDS)

    async def step(self) -> None:
        """One round: compaction, reminders, model call, append, dispatch, limits."""
        self.round += 1
        # bind/reset rather than bound_contextvars: a third of the cost, no generator per round
        tokens = structlog.contextvars.bind_contextvars(run_id=self.run_id, round=self.round)
        try:
            await self.maybe_compact()
            reminders = await self.reminders()
            response = await self.call_model(self.build_request(reminders))
            self.messages.append(response.to_message())
            if response.tool_calls:
                await self.dispatch_calls(response)
            else:
                self.answered(response)
            self.check_limits()
        finally:
            structlog.contextvars.reset_contextvars(**tokens)

    def answered(self, response: ModelResponse) -> None:
        """A text answer ends the run, unless it fails the output model (see OutputCheck)."""
        self.summary = response.text
        correction = self.outputs.judge(response.text)
        if correction is not None:
            self.messages.append(correction)
            return
        stop = response.stop_reason == "end_turn"
        raise StopRun(StopReason.ASSISTANT_STOP if stop else StopReason.NO_TOOL_CALLS)

    def start(self) -> None:
        """Record what the run was given."""
        self.record(
            RunStarted,
            model=self.inp.model.model_id,
            system_prompt=self.inp.system_prompt,
            user_prompt=self.inp.user_prompt,
            prior_messages=list(self.inp.prior_messages),
            tools=[ToolInfo.of(s) for s in self.tools],
            loop=loop_settings(self.inp),
            settings=self.inp.settings,
            output=self.outputs.info(),
        )
        self.log.info("run.started", run_id=self.run_id, model=self.inp.model.model_id)

    def finish(self, reason: StopReason, error: str | None) -> PlannerLoopResult:
        """Record the end of the run and build its result."""
        counts = dict(self.reminder_counts)
        with contextlib.suppress(StopRun):  # a transcript that refuses the end loses only it
            self.record(
                RunFinished,
                stop_reason=reason.value,
                rounds=self.round,
                tool_calls=len(self.executed),
                usage=self.usage,
                summary=self.summary,
                error=error,
                reminder_counts=counts,
                output=self.outputs.dumped(),
            )
        self.flush()
        self.log.info(
            "run.finished",
            run_id=self.run_id,
            stop_reason=reason.value,
            rounds=self.round,
            tool_calls=len(self.executed),
            error=error,
        )
        return PlannerLoopResult(
            rounds=self.round,
            executed_calls=self.executed,
            summary=self.summary,
            stop_reason=reason,
            messages=self.messages,
            usage=self.usage,
            reminder_counts=counts,
            error=error,
            output=self.outputs.value,
        )


def _budgets_set(ctx: ToolContext) -> bool:
    return ctx.token_budget_left is not None or ctx.cost_budget_left_usd is not None


async def run_planner_loop(inp: PlannerLoopInput) -> PlannerLoopResult:
    """Run the loop to a typed stop; never raises for a model, tool or limit failure."""
    run = _Run(inp)
    reason: StopReason = StopReason.CANCELLED
    error: str | None = "cancelled"
    # scopes only where they act: a caller's scope, a timeout (each costs a few µs and objects)
    timer = None if inp.timeout_s is None else anyio.move_on_after(inp.timeout_s)
    try:
        with inp.cancel_scope or _NO_SCOPE, timer or _NO_SCOPE:
            run.start()
            while True:
                await run.step()
    except StopRun as stop:
        reason, error = stop.reason, stop.error
    except anyio.get_cancelled_exc_class():
        run.finish(StopReason.CANCELLED, "cancelled by the caller")
        raise
    if timer is not None and timer.cancelled_caught:
        error = f"timed out after {inp.timeout_s:g}s"
    return run.finish(reason, error)
