"""A local fake of the OpenAI images endpoint, served by uvicorn on 127.0.0.1 (wire level)."""

from __future__ import annotations

import base64
import socket
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from toolkits.seed import solid_png


@dataclass
class EditRequest:
    """What one POST /v1/images/edits carried."""

    auth: str
    fields: dict[str, str]
    images: list[tuple[str, str, bytes]]


@dataclass
class FakeImagesAPI:
    """Answers /v1/images/edits; tests set `fail_status` or `return_count` to misbehave."""

    requests: list[EditRequest] = field(default_factory=list)
    fail_status: int | None = None
    return_count: int | None = None

    def reset(self) -> None:
        """Forget requests and misbehaviour."""
        self.requests.clear()
        self.fail_status = None
        self.return_count = None

    async def edits(self, request: Request) -> JSONResponse:
        """The images.edit endpoint."""
        form = await request.form()
        images: list[tuple[str, str, bytes]] = []
        fields: dict[str, str] = {}
        for key, value in form.multi_items():
            if isinstance(value, UploadFile):
                images.append((key, value.content_type or "", await value.read()))
            else:
                fields[key] = value
        self.requests.append(EditRequest(request.headers.get("authorization", ""), fields, images))
        if self.fail_status is not None:
            return JSONResponse(
                {"error": {"message": "fake upstream failure", "type": "server_error"}},
                status_code=self.fail_status,
            )
        n = self.return_count if self.return_count is not None else int(fields.get("n", "1"))
        data = [{"b64_json": base64.b64encode(solid_png((i, 0, 0))).decode()} for i in range(n)]
        return JSONResponse({"created": int(time.time()), "data": data, "output_format": "png"})


class FakeServer:
    """uvicorn in a background thread, on a port the OS picked."""

    def __init__(self, api: FakeImagesAPI) -> None:
        app = Starlette(routes=[Route("/v1/images/edits", api.edits, methods=["POST"])])
        self._sock = socket.socket()
        self._sock.bind(("127.0.0.1", 0))
        self.port = self._sock.getsockname()[1]
        config = uvicorn.Config(app, log_level="warning", lifespan="off")
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [self._sock]}, daemon=True
        )

    @property
    def base_url(self) -> str:
        """The base URL to give the openai client."""
        return f"http://127.0.0.1:{self.port}/v1"

    def start(self) -> None:
        """Start serving and wait until the server accepts connections."""
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if time.monotonic() > deadline:
                raise RuntimeError("fake images server did not start")
            time.sleep(0.01)

    def stop(self, *_: Any) -> None:
        """Stop serving."""
        self._server.should_exit = True
        self._thread.join(timeout=10)
        self._sock.close()
