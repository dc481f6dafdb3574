"""Tool sources: tools that live elsewhere, such as on an MCP server, as ToolSpecs.

`McpToolSource(url, token)` connects with the SDK's Streamable HTTP client (the 2026 protocol
when the server speaks it, else the legacy session handshake); `McpToolSource.stdio(command)`
starts a local server process with the SDK's stdio client and stops it when the block ends.
Either way it lists the server's tools and turns each into a ToolSpec whose handler calls the
remote tool over the one open session.
The input model is permissive and the remote JSON Schema is what the model sees; the server
validates. Hints come from the annotations (readOnlyHint -> read, destructiveHint ->
destructive, else write) so the local policy gate treats remote tools like local ones. A
remote error result raises ToolError, which the loop reports to the model.

    async with mcp_tool_registry(url, token, space="team:abc") as tools:
        registry = local_tools.merged(tools)
    async with stdio_tool_registry(["mcp-server-time"], prefix="time") as tools:
        ...
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import AsyncExitStack, asynccontextmanager
from pathlib import Path
from types import TracebackType
from typing import Protocol, TextIO, runtime_checkable

import httpx2
import mcp.types as types
from mcp import Client
from mcp.client.stdio import StdioServerParameters, stdio_client
from mcp.client.streamable_http import streamable_http_client
from mcp.shared.exceptions import MCPError
from pydantic import BaseModel, ConfigDict

from planner.errors import ToolError, ToolRegistryError, ToolSourceError
from planner.logging import get_logger
from planner.tools import (
    SPACE_HEADER,
    AnyToolSpec,
    PolicyHint,
    ToolContext,
    ToolRegistry,
    ToolResult,
    ToolSpec,
    check_tool_name,
)

MAX_LIST_PAGES = 100
DEFAULT_TIMEOUT_S = 30.0

log = get_logger("planner.mcp")


@runtime_checkable
class ToolSource(Protocol):
    """Somewhere tools come from besides the local registry (an MCP server, ...)."""

    async def list_specs(self) -> list[AnyToolSpec]:
        """The source's tools as ToolSpecs, ready to merge into a registry."""
        ...


class RemoteInput(BaseModel):
    """Any JSON object: the remote server validates the arguments against its schema."""

    model_config = ConfigDict(extra="allow")


class RemoteOutput(BaseModel):
    """Any JSON object (remote handlers return ToolResults; this is the declared shape)."""

    model_config = ConfigDict(extra="allow")


def policy_hint(annotations: types.ToolAnnotations | None) -> PolicyHint:
    """readOnlyHint -> read, destructiveHint -> destructive, anything else -> write."""
    if annotations is not None and annotations.read_only_hint:
        return "read"
    if annotations is not None and annotations.destructive_hint:
        return "destructive"
    return "write"


def result_of(result: types.CallToolResult) -> ToolResult:
    """A remote result as a ToolResult; an error result raises ToolError with its message."""
    structured = result.structured_content
    envelope = (
        structured
        if isinstance(structured, dict) and {"success", "message"} <= structured.keys()
        else None
    )
    text = "\n".join(c.text for c in result.content if isinstance(c, types.TextContent))
    if result.is_error:
        message = str(envelope["message"]) if envelope is not None else text
        raise ToolError(message or "the remote tool failed without a message")
    if envelope is not None:
        return ToolResult(bool(envelope["success"]), str(envelope["message"]), envelope.get("data"))
    if structured is not None:
        return ToolResult(True, "ok", structured)
    try:
        return ToolResult(True, "ok", json.loads(text))
    except ValueError:
        return ToolResult(True, "ok", text)


def _describe(exc: BaseException) -> str:
    """The innermost cause of a (possibly grouped) exception, for an operator."""
    while isinstance(exc, BaseExceptionGroup) and exc.exceptions:
        exc = exc.exceptions[0]
    return f"{type(exc).__name__}: {exc}"


class McpToolSource:
    """An MCP server's tools, over one client session: `async with` it, then `list_specs()`."""

    def __init__(
        self,
        url: str,
        token: str | None = None,
        *,
        space: str | None = None,
        headers: Mapping[str, str] | None = None,
        prefix: str | None = None,
        mode: str = "auto",
        timeout_s: float = DEFAULT_TIMEOUT_S,
    ) -> None:
        self.url = url
        self.prefix = prefix
        self.mode = mode
        self.timeout_s = timeout_s
        self._headers = dict(headers or {})
        if token:
            self._headers["authorization"] = f"Bearer {token}"
        if space:
            self._headers[SPACE_HEADER] = space
        self._stack: AsyncExitStack | None = None
        self._client: Client | None = None
        self._stdio: StdioServerParameters | None = None

    @classmethod
    def stdio(
        cls,
        command: Sequence[str],
        *,
        env: Mapping[str, str] | None = None,
        cwd: str | Path | None = None,
        prefix: str | None = None,
        mode: str = "auto",
        timeout_s: float = DEFAULT_TIMEOUT_S,
    ) -> McpToolSource:
        """A source whose server is the process `command` starts (stopped when the block ends).

        The process gets the SDK's safe default environment (PATH, HOME, ...) plus `env`.
        """
        if not command:
            raise ToolSourceError("an MCP stdio tool source needs a command")
        source = cls(" ".join(command), prefix=prefix, mode=mode, timeout_s=timeout_s)
        source._stdio = StdioServerParameters(
            command=command[0], args=list(command[1:]), env=dict(env or {}), cwd=cwd
        )
        return source

    async def __aenter__(self) -> McpToolSource:
        if self._stdio is not None:
            return await self._enter_stdio(self._stdio)
        refusals: list[str] = []

        async def note_refusal(response: httpx2.Response) -> None:
            if response.status_code >= 400:
                challenge = response.headers.get("www-authenticate")
                refusals.append(
                    f"HTTP {response.status_code}" + (f" ({challenge})" if challenge else "")
                )

        try:
            async with AsyncExitStack() as stack:
                http = await stack.enter_async_context(
                    httpx2.AsyncClient(
                        headers=self._headers,
                        timeout=self.timeout_s,
                        event_hooks={"response": [note_refusal]},
                    )
                )
                client = Client(
                    streamable_http_client(self.url, http_client=http),
                    mode=self.mode,
                    read_timeout_seconds=self.timeout_s,
                )
                self._client = await stack.enter_async_context(client)
                self._stack = stack.pop_all()
        except Exception as exc:
            why = refusals[-1] if refusals else _describe(exc)
            raise ToolSourceError(f"cannot connect to the MCP server {self.url}: {why}") from exc
        return self

    async def _enter_stdio(self, params: StdioServerParameters) -> McpToolSource:
        """Start the server process and open the session over its stdin and stdout."""
        try:
            async with AsyncExitStack() as stack:
                transport = stdio_client(params, errlog=_server_errlog())
                client = Client(transport, mode=self.mode, read_timeout_seconds=self.timeout_s)
                self._client = await stack.enter_async_context(client)
                self._stack = stack.pop_all()
        except Exception as exc:
            raise ToolSourceError(
                f"cannot start the MCP server `{self.url}`: {_describe(exc)}"
            ) from exc
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        stack, self._stack, self._client = self._stack, None, None
        if stack is not None:
            await stack.__aexit__(exc_type, exc, tb)

    @property
    def client(self) -> Client:
        """The open MCP client; ToolError when the source is not entered (or closed)."""
        if self._client is None:
            raise ToolError(f"the MCP tool source {self.url} is not connected")
        return self._client

    async def list_tools(self) -> list[types.Tool]:
        """Every tool the server lists, across pages."""
        tools: list[types.Tool] = []
        cursor: str | None = None
        for _ in range(MAX_LIST_PAGES):
            page = await self.client.list_tools(cursor=cursor)
            tools.extend(page.tools)
            cursor = page.next_cursor
            if cursor is None:
                break
        return tools

    async def list_specs(self) -> list[AnyToolSpec]:
        """The server's tools as ToolSpecs (tools whose names cannot be mapped are skipped)."""
        specs: list[AnyToolSpec] = []
        for tool in await self.list_tools():
            name = f"{self.prefix}.{tool.name}" if self.prefix else tool.name
            try:
                check_tool_name(name)
            except ToolRegistryError as exc:
                log.warning("mcp.tool_skipped", url=self.url, tool=tool.name, error=str(exc))
                continue
            specs.append(self._spec(name, tool))
        return specs

    def _spec(self, name: str, tool: types.Tool) -> AnyToolSpec:
        remote_name = tool.name

        async def call_remote(_ctx: ToolContext, payload: RemoteInput) -> ToolResult:
            arguments = payload.model_dump(mode="json")
            try:
                result = await self.client.call_tool(remote_name, arguments)
            except MCPError as exc:
                raise ToolError(f"{remote_name}: {exc}") from exc
            return result_of(result)

        annotations = tool.annotations
        return ToolSpec(
            name=name,
            description=tool.description or tool.title or remote_name,
            input_model=RemoteInput,
            output_model=RemoteOutput,
            handler=call_remote,
            scope="user-space",
            policy_hint=policy_hint(annotations),
            timeout_s=self.timeout_s,
            idempotent=bool(annotations is not None and annotations.idempotent_hint),
            input_schema_override=dict(tool.input_schema),
        )


def _server_errlog() -> TextIO:
    """Where a stdio server's stderr goes: this process's stderr when it is a real file."""
    for stream in (sys.stderr, sys.__stderr__):
        try:
            if stream is not None and stream.fileno() >= 0:
                return stream
        except (AttributeError, OSError, ValueError):
            continue
    return open(os.devnull, "w")


@asynccontextmanager
async def stdio_tool_registry(
    command: Sequence[str],
    *,
    env: Mapping[str, str] | None = None,
    cwd: str | Path | None = None,
    prefix: str | None = None,
    mode: str = "auto",
    timeout_s: float = DEFAULT_TIMEOUT_S,
) -> AsyncIterator[ToolRegistry]:
    """A registry of a stdio MCP server's tools; the server runs while the block runs."""
    source = McpToolSource.stdio(
        command, env=env, cwd=cwd, prefix=prefix, mode=mode, timeout_s=timeout_s
    )
    async with source:
        yield ToolRegistry(await source.list_specs())


@asynccontextmanager
async def mcp_tool_registry(
    url: str,
    token: str | None = None,
    space: str | None = None,
    *,
    headers: Mapping[str, str] | None = None,
    prefix: str | None = None,
    mode: str = "auto",
    timeout_s: float = DEFAULT_TIMEOUT_S,
) -> AsyncIterator[ToolRegistry]:
    """A registry of an MCP server's tools, callable while the block runs."""
    source = McpToolSource(
        url, token, space=space, headers=headers, prefix=prefix, mode=mode, timeout_s=timeout_s
    )
    async with source:
        yield ToolRegistry(await source.list_specs())
