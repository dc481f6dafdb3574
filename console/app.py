"""The console web app (Starlette): pages and JSON over the run store, personas and transcripts."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import asdict
from urllib.parse import quote

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from console.errors import RunNotFoundError
from console.layout import esc, page
from console.pages import personas_page, proposals_page, runs_page
from console.runpage import render_run_page
from console.sources import ConsoleData, filter_rows
from console.timeline import as_json
from missions import AppSettings, ProposalStateError, approve, open_app, reject
from personas import SqlPersonaStore, load_report
from planner import PlannerError, TranscriptError

Handler = Callable[[Request], Awaitable[Response]]


def _data(request: Request) -> ConsoleData:
    data: ConsoleData = request.app.state.data
    return data


def _error_page(status: int, message: str) -> HTMLResponse:
    body = f"<h1>{status}</h1><div class='notice error' id='notice'>{esc(message)}</div>"
    return HTMLResponse(page(f"{status}", body), status_code=status)


async def index(request: Request) -> Response:
    """The runs list, filtered by mission and status."""
    mission = request.query_params.get("mission") or None
    status = request.query_params.get("status") or None
    rows = await _data(request).runs()
    return HTMLResponse(runs_page(filter_rows(rows, mission, status), rows, mission, status))


async def run_page(request: Request) -> Response:
    """One run: facts, answer, usage per round and the timeline."""
    run_id = request.path_params["run_id"]
    try:
        view = await _data(request).run_view(run_id)
    except RunNotFoundError as exc:
        return _error_page(404, str(exc))
    except TranscriptError as exc:
        return _error_page(422, str(exc))
    return HTMLResponse(render_run_page(view, title=run_id))


async def api_runs(request: Request) -> Response:
    """The runs list as JSON."""
    mission = request.query_params.get("mission") or None
    status = request.query_params.get("status") or None
    rows = filter_rows(await _data(request).runs(), mission, status)
    return JSONResponse([asdict(r) for r in rows])


async def api_run(request: Request) -> Response:
    """One run's view as JSON: rounds, calls with their times, sub-runs."""
    try:
        view = await _data(request).run_view(request.path_params["run_id"])
    except RunNotFoundError as exc:
        return JSONResponse({"error": str(exc)}, status_code=404)
    except TranscriptError as exc:
        return JSONResponse({"error": str(exc)}, status_code=422)
    return JSONResponse(as_json(view))


async def proposals(request: Request) -> Response:
    """Pending and decided proposals."""
    items = await _data(request).app.runs.list_proposals()
    q = request.query_params
    html = proposals_page(items, request.app.state.csrf, q.get("done", ""), q.get("error", ""))
    return HTMLResponse(html)


async def decide(request: Request) -> Response:
    """Approve or reject one proposal through the CLI's functions; refusals as the CLI's."""
    form = await request.form()
    token = form.get("csrf")
    if not isinstance(token, str) or not secrets.compare_digest(token, request.app.state.csrf):
        return _error_page(403, "missing or wrong CSRF token: reload the proposals page")
    data = _data(request)
    proposal_id, action = request.path_params["proposal_id"], request.path_params["action"]
    if action not in ("approve", "reject"):
        return _error_page(404, f"no action {action!r}: approve or reject")
    try:
        if action == "approve":
            done = await approve(data.app.runs, proposal_id, data.app.tools)
        else:
            done = await reject(data.app.runs, proposal_id)
    except ProposalStateError as exc:
        items = await data.app.runs.list_proposals()
        html = proposals_page(items, request.app.state.csrf, error=str(exc))
        return HTMLResponse(html, status_code=409)
    except PlannerError as exc:
        return _error_page(500, str(exc))
    return RedirectResponse(f"/proposals?done={quote(f'{done.id}: {done.status}')}", 303)


async def personas(request: Request) -> Response:
    """The persona report, each session linked to its run page."""
    report = await load_report(_data(request).personas)
    return HTMLResponse(personas_page(report, charts=request.app.state.charts))


def create_app(settings: AppSettings, *, charts: bool = True) -> Starlette:
    """The console app over the stores `settings` name; opened at start-up, closed at exit."""

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        async with AsyncExitStack() as stack:
            opened = await stack.enter_async_context(open_app(settings))
            persona_store = await SqlPersonaStore(opened.store.engine).create()
            app.state.data = ConsoleData(opened, persona_store)
            yield

    routes = [
        Route("/", index),
        Route("/runs/{run_id:path}", run_page),
        Route("/api/runs", api_runs),
        Route("/api/runs/{run_id:path}", api_run),
        Route("/proposals", proposals),
        Route("/proposals/{proposal_id}/{action:str}", decide, methods=["POST"]),
        Route("/personas", personas),
    ]
    app = Starlette(routes=routes, lifespan=lifespan)
    app.state.csrf = secrets.token_urlsafe(24)
    app.state.charts = charts
    return app
