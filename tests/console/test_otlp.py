"""A CLI run with the standard OTLP variables set sends its GenAI spans to an OTLP/HTTP
receiver (a local http.server here, decoding the protobuf), flushed before the process exits."""

from __future__ import annotations

import gzip
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from missions.otel_export import export_requested

ROOT = Path(__file__).resolve().parents[2]


class _Receiver(BaseHTTPRequestHandler):
    spans: list[Any]
    paths: list[str]

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        if self.headers.get("Content-Encoding") == "gzip":
            body = gzip.decompress(body)
        request = ExportTraceServiceRequest()
        request.ParseFromString(body)
        self.paths.append(self.path)
        for resource in request.resource_spans:
            for scope in resource.scope_spans:
                self.spans.extend(scope.spans)
        self.send_response(200)
        self.send_header("Content-Type", "application/x-protobuf")
        self.end_headers()

    def log_message(self, *_args: Any) -> None:
        return


@pytest.fixture
def receiver() -> Iterator[tuple[str, type[_Receiver]]]:
    handler = type("Handler", (_Receiver,), {"spans": [], "paths": []})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", handler
    server.shutdown()
    server.server_close()


def test_the_variables_that_ask_for_export() -> None:
    assert export_requested({"OTEL_TRACES_EXPORTER": "otlp"})
    assert export_requested({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://x"})
    assert export_requested({"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://x/v1/traces"})
    assert not export_requested(
        {"OTEL_TRACES_EXPORTER": "none", "OTEL_EXPORTER_OTLP_ENDPOINT": "x"}
    )
    assert not export_requested({"OTEL_TRACES_EXPORTER": "console"})
    assert not export_requested({})


def test_a_cli_run_exports_its_spans_over_otlp(
    receiver: tuple[str, type[_Receiver]], tmp_path: Path
) -> None:
    url, handler = receiver
    env = {
        **os.environ,
        "OTEL_EXPORTER_OTLP_ENDPOINT": url,
        "OTEL_TRACES_EXPORTER": "otlp",
        "MANA_VAR_DIR": str(tmp_path / "var"),
    }
    env.pop("MANA_DATABASE_URL", None)
    script = Path(sys.executable).with_name("mana-planner")
    command = [str(script)] if script.exists() else [sys.executable, "-m", "mana_planner"]
    done = subprocess.run(
        [*command, "demo", "--runs-dir", str(tmp_path / "runs")],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=240,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    assert handler.paths and set(handler.paths) == {"/v1/traces"}
    spans = {s.name: s for s in handler.spans}
    root = spans["invoke_agent weekly-review"]
    assert not root.parent_span_id
    chats = [s for s in handler.spans if s.name.startswith("chat ")]
    tools = [s for s in handler.spans if s.name.startswith("execute_tool ")]
    assert chats and tools
    top = [s for s in chats + tools if s.parent_span_id == root.span_id]
    assert len(top) >= 4
    task, sub = spans["execute_tool task"], spans["invoke_agent research"]
    assert sub.parent_span_id == task.span_id and sub.trace_id == root.trace_id
    for span in (root, task, sub):
        assert span.end_time_unix_nano > span.start_time_unix_nano
    assert root.start_time_unix_nano <= task.start_time_unix_nano
    assert task.end_time_unix_nano <= root.end_time_unix_nano
    assert sub.end_time_unix_nano - sub.start_time_unix_nano <= (
        task.end_time_unix_nano - task.start_time_unix_nano
    )
