"""The one holder of this process's launched DBOS state.

DBOS is a process-wide singleton and its workflows are module-level functions, so a workflow
(a recovered one included) finds what it runs with here: the launched engine, and the services
other packages attach for their own workflows (the persona scheduler, for one), each keyed by
its type. Nothing else in the project keeps process state for DBOS.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TypeVar, cast

from missions.engine_types import WorkflowEngine
from missions.errors import EngineStateError

T = TypeVar("T")

LISTENER_POLL_S = 0.05
"""How often DBOS's notification listener polls a SQLite system database (DBOS: 1 s).

`DBOS.destroy` joins that thread, which sleeps a whole interval between polls: at 1 s every
`mana-planner run` spent 0.5-1 s waiting out the sleep after its run was recorded. A poll
only queries the database while something waits on a notification (nothing here does), so
polling more often costs a thread wake-up. PostgreSQL is notified instead (LISTEN/NOTIFY).
"""


@dataclass
class DurableHost:
    """The launched engine (at most one) and the typed services its workflows look up."""

    _engine: WorkflowEngine | None = None
    _services: dict[type, object] = field(default_factory=dict)

    def attach(self, engine: WorkflowEngine) -> None:
        """Make `engine` the one workflows run with; refuse a second one."""
        if self._engine is not None and self._engine is not engine:
            raise EngineStateError("another DBOSEngine is launched in this process")
        self._engine = engine

    def detach(self, engine: WorkflowEngine) -> None:
        """Forget `engine` (a no-op when another one, or none, is attached)."""
        if self._engine is engine:
            self._engine = None

    @property
    def engine(self) -> WorkflowEngine:
        """The launched engine; EngineStateError when there is none."""
        if self._engine is None:
            raise EngineStateError("no DBOSEngine is launched in this process")
        return self._engine

    def provide(self, kind: type[T], service: T | None) -> None:
        """Attach (or, with None, remove) the service of this type."""
        if service is None:
            self._services.pop(kind, None)
        else:
            self._services[kind] = service

    def service(self, kind: type[T]) -> T:
        """The attached service of this type; EngineStateError when there is none."""
        found = self._services.get(kind)
        if found is None:
            raise EngineStateError(f"no {kind.__name__} is attached in this process")
        return cast(T, found)


HOST = DurableHost()
"""This process's holder (DBOS itself allows one launched instance per process)."""
