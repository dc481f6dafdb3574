"""Sub-agents, a plug-in over the loop: `with_subagents` adds a `task` tool whose handler runs
a context-isolated loop with a restricted tool set. The loop knows nothing of it: the nested
run's usage comes back on the ToolResult, its budgets and transcript path on the ToolContext.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from enum import Enum
from typing import Any

from pydantic import BaseModel, Field, create_model

from planner.loop import PlannerLoopInput, PlannerLoopResult, run_planner_loop
from planner.messages import Usage
from planner.models.base import Model
from planner.state import ReminderChannel, StopReason
from planner.tools import AnyToolSpec, ToolContext, ToolRegistry, ToolResult, ToolSpec

TASK_TOOL = "task"
SUBAGENTS_SETTING = "subagents"
"""The run-settings key under which the transcript records the kinds offered."""
SUBAGENT_TIMEOUT_S = 300.0
ToolFilter = Callable[[AnyToolSpec], bool]


def read_only(spec: AnyToolSpec) -> bool:
    """Keep read tools only."""
    return spec.policy_hint == "read"


def every_tool(spec: AnyToolSpec) -> bool:
    """Keep every tool the parent has."""
    return True


DEFAULT_SUBAGENT_PROMPT = (
    "You are a focused sub-agent. Do only the job you are given, with the tools you have, "
    "then answer with one concise summary of what you found or did. Your answer is all the "
    "caller will see."
)
PLAN_PROMPT = (
    "You are a planning sub-agent. Read what you need with your tools, then answer with a plan "
    "of 3 to 5 numbered steps, each one line, and nothing else."
)


@dataclass(frozen=True)
class SubAgentSpec:
    """A kind of sub-agent: which tools it keeps, how long it runs, which model it uses."""

    name: str
    description: str
    tools: ToolFilter = every_tool
    max_rounds: int = 5
    model: Model | None = None
    system_prompt: str | None = None
    reminder_channel: ReminderChannel | None = None
    timeout_s: float = SUBAGENT_TIMEOUT_S


DEFAULT_SUBAGENTS: tuple[SubAgentSpec, ...] = (
    SubAgentSpec(
        "research",
        "Reads widely with read-only tools and returns one summary (keeps your context small).",
        tools=read_only,
        max_rounds=5,
    ),
    SubAgentSpec(
        "plan",
        "Reads what it needs with read-only tools and returns a 3-5 step plan.",
        tools=read_only,
        max_rounds=3,
        system_prompt=PLAN_PROMPT,
    ),
    SubAgentSpec(
        "general",
        "Does a focused job with every tool you have and returns one summary.",
        tools=every_tool,
        max_rounds=5,
    ),
)


class TaskOutput(BaseModel):
    """What a finished sub-agent reports to its parent, besides its answer."""

    subagent_type: str
    rounds: int
    tool_calls: int
    stop_reason: str
    usage: Usage


def task_input_model(names: Sequence[str]) -> type[BaseModel]:
    """The `task` tool's input: a sub-agent type from `names`, a description and a prompt."""
    kinds = Enum("SubAgentType", {n: n for n in names}, type=str)  # type: ignore[misc]
    return create_model(
        "TaskInput",
        subagent_type=(kinds, Field(description="Which sub-agent to start.")),
        description=(str, Field(description="A few words on the job, for logs.", max_length=200)),
        prompt=(str, Field(description="The whole job: the sub-agent sees nothing else.")),
    )


SubAgentModelFor = Callable[[str, str], Model | None]
"""(sub-agent name, transcript path) -> the model to use, or None for the default."""


@dataclass(frozen=True)
class SubAgentHost:
    """What the parent run lends its sub-agents: model, tools, gate, transcript, predicate."""

    parent: PlannerLoopInput
    kinds: tuple[SubAgentSpec, ...]
    model_for: SubAgentModelFor | None = None

    def subagent(self, name: str) -> SubAgentSpec | None:
        """The sub-agent kind called `name`."""
        return next((s for s in self.kinds if s.name == name), None)

    def tools_for(self, spec: SubAgentSpec) -> ToolRegistry:
        """The parent's tools that this kind keeps; never `task` itself."""
        return self.parent.tools.filter(lambda t: t.name != TASK_TOOL and spec.tools(t))

    def parallel_safe(self, arguments: dict[str, Any]) -> bool:
        """A `task` call is parallel-safe when every tool its kind keeps is."""
        spec = self.subagent(str(arguments.get("subagent_type", "")))
        predicate = self.parent.is_parallel_safe
        if spec is None or predicate is None:
            return False
        return all(predicate(t) for t in self.tools_for(spec))

    def child_input(
        self, spec: SubAgentSpec, ctx: ToolContext, args: dict[str, Any]
    ) -> PlannerLoopInput:
        """The nested run: fresh history, the kind's tools and prompt, the budgets left."""
        parent = self.parent
        path = f"{ctx.transcript_path}/{ctx.call_id}" if ctx.transcript_path else ctx.call_id
        model = spec.model or parent.model
        if self.model_for is not None:
            model = self.model_for(spec.name, path) or model
        context = ToolContext(ctx.user_id, ctx.space_id, f"{ctx.run_id}/{ctx.call_id}", ctx.invoker)
        return PlannerLoopInput(
            model=model,
            system_prompt=spec.system_prompt or DEFAULT_SUBAGENT_PROMPT,
            user_prompt=str(args["prompt"]),
            tools=self.tools_for(spec),
            context=context,
            policy=parent.policy,
            reminder_channel=spec.reminder_channel,
            is_parallel_safe=parent.is_parallel_safe,
            max_rounds=spec.max_rounds,
            token_budget=ctx.token_budget_left,
            cost_budget_usd=ctx.cost_budget_left_usd,
            transcript=parent.transcript,
            settings={"subagent": spec.name, "description": args["description"]},
            transcript_path=path,
        )

    async def run_task(self, ctx: ToolContext, inp: BaseModel) -> ToolResult:
        """Run one sub-agent to its end and hand back a single summary result."""
        args = inp.model_dump(mode="json")
        spec = self.subagent(str(args["subagent_type"]))
        assert spec is not None  # the input model only admits known kinds
        tokens_left, cost_left = ctx.token_budget_left, ctx.cost_budget_left_usd
        if (tokens_left is not None and tokens_left <= 0) or (
            cost_left is not None and cost_left <= 0
        ):
            return ToolResult(False, "no budget left for a sub-agent; answer with what you have")
        result = await run_planner_loop(self.child_input(spec, ctx, args))
        return summarize(spec, result)

    def describe(self) -> list[dict[str, Any]]:
        """The kinds as the transcript records them, so replay can rebuild them."""
        return [
            {
                "name": s.name,
                "description": s.description,
                "max_rounds": s.max_rounds,
                "system_prompt": s.system_prompt,
                "tools": self.tools_for(s).names,
            }
            for s in self.kinds
        ]


def summarize(spec: SubAgentSpec, result: PlannerLoopResult) -> ToolResult:
    """The parent's one tool result for a finished sub-agent."""
    data = TaskOutput(
        subagent_type=spec.name,
        rounds=result.rounds,
        tool_calls=len(result.executed_calls),
        stop_reason=result.stop_reason.value,
        usage=result.usage,
    ).model_dump(mode="json")
    reason, usage = result.stop_reason, result.usage
    if reason in (StopReason.MODEL_ERROR, StopReason.CANCELLED):
        message = f"sub-agent {spec.name} failed: {result.error or reason}"
        return ToolResult(False, message, data, usage)
    if result.summary:
        return ToolResult(True, result.summary, data, usage)
    if reason is StopReason.BUDGET_EXHAUSTED:
        message = f"sub-agent {spec.name} ran out of budget after {result.rounds} rounds"
    else:
        message = (
            f"sub-agent {spec.name} stopped ({reason.value}) after {result.rounds} rounds "
            "without a final answer"
        )
    return ToolResult(False, message, data, usage)


def task_tool(host: SubAgentHost) -> AnyToolSpec:
    """The `task` tool that starts the host's sub-agent kinds."""
    kinds = host.kinds
    lines = "\n".join(f"- {s.name}: {s.description}" for s in kinds)
    input_model = task_input_model([s.name for s in kinds])
    return ToolSpec(
        name=TASK_TOOL,
        description=(
            "Start a sub-agent in a fresh context for a focused job; it returns one summary. "
            f"Give it everything it needs in `prompt`. Types:\n{lines}"
        ),
        input_model=input_model,
        output_model=TaskOutput,
        handler=host.run_task,
        # the sub-agent's own calls are gated (and proposed, in plan-only) one by one
        policy_hint="read",
        timeout_s=max(s.timeout_s for s in kinds),
        parallel_safe_for=host.parallel_safe,
        nested_run=True,
    )


def with_subagents(
    loop_input: PlannerLoopInput,
    kinds: Sequence[SubAgentSpec],
    model_for: SubAgentModelFor | None = None,
) -> PlannerLoopInput:
    """The input with a `task` tool offering these sub-agent kinds (none: unchanged).

    Apply it last: sub-agents run with this input's model, gate, transcript and parallel
    predicate. `model_for(kind, transcript_path)` may pick a sub-agent's model (replay does).
    """
    if not kinds:
        return loop_input
    host = SubAgentHost(loop_input, tuple(kinds), model_for)
    return replace(
        loop_input,
        tools=loop_input.tools.merged([task_tool(host)]),
        settings={**loop_input.settings, SUBAGENTS_SETTING: host.describe()},
    )
