"""Durable steps: what wraps the loop's model and tools so each call is a DBOS step.

The planner engine knows nothing of DBOS. Durability comes from wrapping what the loop is given:

- `DurableModel` runs `complete()` as a DBOS step whose output is the response as JSON-able
  data (plus the retries it took and the time it came back); on recovery the recorded response
  is re-hydrated and the model is not called again.
- `durable_registry` wraps every tool handler so the call (gate already passed, arguments
  already validated) runs as a DBOS step; its result, error or timeout is the step output, so
  a call whose result was saved is never run again. The one call in flight at a crash has no
  saved result and runs again on resume: write tools are idempotent on `ctx.call_id`.

The loop is deterministic given the same responses and tool results, so on recovery DBOS hands
back the recorded outputs in order. Step ids are positional: the calls of a parallel round are
started in source order (the dispatch window starts them in order), so their ids are stable.
Each step is named after what it is (`model#3`, `tool:todo.create:toolu_01`), so a run that
ever replays out of order fails loudly with DBOSUnexpectedStepError instead of handing a
recorded output to the wrong call.

Step bodies are closures without arguments: DBOS names a step function in its warnings (an
interrupted step, for one), and a closure's name carries no request, argument or result.

Every step goes through a `StepRunner`: on an execution that starts with nothing recorded
(`StepHistory` asks the system database once) a body runs first and its outcome is recorded
in one hop to DBOS's thread; every other execution uses DBOS's check-first step.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Coroutine, Sequence
from dataclasses import dataclass, replace
from typing import Any, TypeVar

import anyio
from dbos import DBOS, DBOSClient, StepOptions
from pydantic import BaseModel

from planner import (
    RETRY_SINK,
    AnyToolSpec,
    Model,
    ModelError,
    ModelRequest,
    ModelResponse,
    PlannerLoopInput,
    RetryInfo,
    ScriptExhaustedError,
    SubAgentSpec,
    ToolContext,
    ToolRegistry,
    ToolResult,
    execute,
    with_subagents,
)

T = TypeVar("T")

STEP_TIMEOUT_MARGIN_S = 60.0
"""Extra time the dispatch timeout allows a tool step over the tool's own timeout (which the
step enforces itself, so a timeout is recorded like any other result)."""

KNOWN_MODEL_ERRORS: dict[str, type[ModelError]] = {
    cls.__name__: cls for cls in (ModelError, ScriptExhaustedError)
}


@dataclass
class StepClock:
    """The gate's clock in a durable run: the time the latest model response came back.

    It is read from recorded step outputs, so the rate-limit window sees the same times when
    a run is replayed after a restart, and the gate decides the same way.
    """

    now: float = 0.0

    def __call__(self) -> float:
        return self.now


@dataclass(frozen=True)
class StepRunner:
    """Runs the steps of one workflow execution as DBOS steps.

    An execution that began with no step of its workflow recorded (`fresh`) has nothing to
    replay, so a step's body runs first, on the event loop, and its outcome (a value or an
    exception) is then checkpointed at the step id drawn before the body began: one hop to
    DBOS's thread for the check and the write, where DBOS's own async step takes three. Every
    other execution (a resume, a recovery, a take-over) runs DBOS's own step, which checks
    first: a saved step is never run again. Both record the same steps, in the same order,
    under the same names, and neither records a body that was cancelled.

    What differs on a fresh run: a workflow cancelled through DBOS finds out when the step is
    recorded, after its body ran, instead of before. Step bodies must not call DBOS themselves
    (a body runs outside DBOS's step context on a fresh run and inside it otherwise).
    """

    fresh: bool = False

    async def __call__(self, name: str, body: Callable[[], Coroutine[Any, Any, T]]) -> T:
        """The step `name`: its recorded outcome, or `body`'s, recorded."""
        options: StepOptions = {"name": name}
        in_workflow = DBOS.workflow_id is not None and DBOS.step_id is None
        if not (self.fresh and in_workflow):  # outside a workflow DBOS makes it a plain call
            return await DBOS.run_step_async(options, body)
        reservation = DBOS.reserve_step()
        try:
            value = await body()
        except Exception as exc:
            failure = exc

            def raise_failure() -> T:
                raise failure

            return await reservation.run_async(options, raise_failure)
        return await reservation.run_async(options, lambda: value)


class StepHistory:
    """Tells, as an execution starts, whether its workflow has any step recorded.

    It reads through a client of its own, outside DBOS's step machinery: a DBOS call made from
    the workflow would be a step itself, and on recovery it would replay its first answer.
    """

    def __init__(self, db_url: str, app_name: str) -> None:
        self.client = DBOSClient(
            system_database_url=db_url,
            application_name=app_name,
            system_database_pool_size=2,
            lazy=True,
        )

    async def runner_for(self, run_id: str) -> StepRunner:
        """The step runner of an execution of `run_id` starting now."""
        found = await anyio.to_thread.run_sync(
            lambda: self.client.list_workflow_steps(run_id, load_output=False, limit=1)
        )
        return StepRunner(fresh=not found)

    def close(self) -> None:
        """Release the client's connections."""
        self.client.destroy()


def replayed_model_error(type_name: str, message: str) -> ModelError:
    """A ModelError whose type name is the original's, so the loop's error text is identical.

    The engine's own error types come back as themselves; any other name (an adapter's) gets
    a subclass of that name, made for this one replay.
    """
    cls = KNOWN_MODEL_ERRORS.get(type_name)
    if cls is None:
        cls = type(type_name, (ModelError,), {"__module__": __name__})
    return cls(message)


def _retry_record(info: RetryInfo) -> dict[str, Any]:
    return {
        "attempt": info.attempt,
        "error": info.error,
        "wait_s": info.wait_s,
        "status": info.status,
    }


class DurableModel:
    """A Model whose `complete()` is a DBOS step; outside a workflow it is a plain call."""

    def __init__(
        self,
        inner: Model,
        *,
        lane: str = "",
        clock: StepClock | None = None,
        steps: StepRunner | None = None,
    ) -> None:
        self.inner = inner
        self.lane = lane
        self.clock = clock or StepClock()
        self.steps = steps or StepRunner()

    @property
    def model_id(self) -> str:
        """The wrapped model's id."""
        return self.inner.model_id

    async def complete(self, request: ModelRequest) -> ModelResponse:
        """Return the recorded response for this step, or call the model and record it."""
        ran: list[bool] = []

        async def model_step() -> dict[str, Any]:
            return await self._call(request, ran)

        name = f"model{self.lane}#{request.round}"
        data: dict[str, Any] = await self.steps(name, model_step)
        self.clock.now = float(data["at"])
        sink = RETRY_SINK.get()
        if not ran and sink is not None:  # replayed: show the retries the first run made
            for info in data.get("retries", ()):
                sink(RetryInfo(**info))
        if "error" in data:
            raise replayed_model_error(data["error_type"], data["error"])
        return ModelResponse.model_validate(data["response"])

    async def _call(self, request: ModelRequest, ran: list[bool]) -> dict[str, Any]:
        """The step body: the real call, its retries and its outcome as plain data."""
        ran.append(True)
        retries: list[dict[str, Any]] = []
        outer = RETRY_SINK.get()

        def collect(info: RetryInfo) -> None:
            retries.append(_retry_record(info))
            if outer is not None:
                outer(info)

        token = RETRY_SINK.set(collect)
        try:
            response = await self.inner.complete(request)
        except Exception as exc:
            return {
                "error_type": type(exc).__name__,
                "error": str(exc),
                "retries": retries,
                "at": time.time(),
            }
        finally:
            RETRY_SINK.reset(token)
        return {"response": response.model_dump(mode="json"), "retries": retries, "at": time.time()}


def _lane(ctx: ToolContext) -> str:
    """The sub-agent path inside a run (`/call_3`), empty for the run itself."""
    _, sep, rest = ctx.run_id.partition("/")
    return f"/{rest}" if sep else ""


def durable_tool(spec: AnyToolSpec, steps: StepRunner) -> AnyToolSpec:
    """The same tool, its handler run as a DBOS step recording the ToolResult."""

    async def handler(ctx: ToolContext, payload: BaseModel) -> ToolResult:
        async def tool_step() -> dict[str, Any]:
            result = await execute(spec, ctx, payload)
            return {"success": result.success, "message": result.message, "data": result.data}

        name = f"tool{_lane(ctx)}:{spec.name}:{ctx.call_id}"
        data: dict[str, Any] = await steps(name, tool_step)
        return ToolResult(success=data["success"], message=data["message"], data=data["data"])

    # the spec's schema, computed once, carried over: a registry is wrapped on every run
    return replace(
        spec,
        handler=handler,
        timeout_s=spec.timeout_s + STEP_TIMEOUT_MARGIN_S,
        input_schema_override=spec.input_schema,
    )


def durable_registry(registry: ToolRegistry, steps: StepRunner) -> ToolRegistry:
    """A registry whose every handler runs as a DBOS step (names, schemas and hints kept)."""
    return ToolRegistry(durable_tool(spec, steps) for spec in registry)


def durable_input(
    inp: PlannerLoopInput, model_for_subagent: Model, kinds: Sequence[SubAgentSpec] = ()
) -> PlannerLoopInput:
    """Make a loop input replay-safe: durable models everywhere, a recorded gate clock, and
    the sub-agent `kinds` offered over durable models.

    Parallel nested runs interleave their steps by timing, which a positional replay cannot
    follow, so `nested_run` calls run one at a time; other parallel-safe reads still run together.
    """
    clock = StepClock()
    if isinstance(inp.model, DurableModel):
        inp.model.clock = clock
    if inp.policy is not None:
        inp.policy.clock = clock
    models = {s.name: s.model for s in kinds}

    steps = inp.model.steps if isinstance(inp.model, DurableModel) else StepRunner()

    def subagent_model(kind: str, path: str) -> Model:
        inner = models.get(kind) or model_for_subagent
        return DurableModel(inner, lane=f"/{path}", clock=clock, steps=steps)

    base = inp.is_parallel_safe
    safe = base
    if base is not None:
        safe = lambda spec: not spec.nested_run and base(spec)  # noqa: E731
    return with_subagents(replace(inp, is_parallel_safe=safe), kinds, subagent_model)
