"""OTLP export of a run's GenAI spans, when the standard OpenTelemetry variables ask for it.

`OTEL_TRACES_EXPORTER=otlp`, or an `OTEL_EXPORTER_OTLP_ENDPOINT` /
`OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` without an exporter named, installs a tracer provider with
the standard OTLP/HTTP exporter (it reads the endpoint, headers and timeout variables itself).
Spans are batched and flushed before the process exits.
"""

from __future__ import annotations

import atexit
import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

TRACES_EXPORTER_ENV = "OTEL_TRACES_EXPORTER"
ENDPOINT_ENVS = ("OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
SERVICE_NAME = "mana-planner"


def export_requested(environ: Mapping[str, str]) -> bool:
    """True when the environment asks for OTLP trace export (and not for `none`)."""
    names = {n.strip() for n in environ.get(TRACES_EXPORTER_ENV, "").split(",") if n.strip()}
    if "none" in names:
        return False
    if "otlp" in names:
        return True
    return not names and any(environ.get(v) for v in ENDPOINT_ENVS)


@dataclass(frozen=True)
class OtlpExport:
    """The installed provider; `flush` sends what is batched and stops the exporter."""

    provider: Any

    def flush(self) -> None:
        """Export every finished span now, then shut the exporter down."""
        self.provider.force_flush()
        self.provider.shutdown()


def start_otlp_export(environ: Mapping[str, str] | None = None) -> OtlpExport | None:
    """Install the OTLP exporter as the tracer provider when asked; None when not asked."""
    env = os.environ if environ is None else environ
    if not export_requested(env):
        return None
    try:
        from opentelemetry import trace
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
        from opentelemetry.sdk.resources import Resource
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import BatchSpanProcessor
    except ImportError as exc:
        from planner import ConfigError

        raise ConfigError(
            f"{TRACES_EXPORTER_ENV}/{ENDPOINT_ENVS[0]} ask for OTLP export, but the exporter is "
            f"not installed ({exc.name}): pip install 'mana-planner[otel]'"
        ) from exc
    service = env.get("OTEL_SERVICE_NAME") or SERVICE_NAME
    provider = TracerProvider(
        resource=Resource.create({"service.name": service}), shutdown_on_exit=False
    )
    provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    trace.set_tracer_provider(provider)
    export = OtlpExport(provider)
    atexit.register(export.flush)
    return export
