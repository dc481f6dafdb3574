"""Closing what a run opened even when the run is cancelled (a signal, a cancel scope)."""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import TypeVar

import anyio

T = TypeVar("T")


@asynccontextmanager
async def shielded_exit(cm: AbstractAsyncContextManager[T]) -> AsyncIterator[T]:
    """Enter `cm` as usual, but close it shielded: an interrupted run still closes its store."""
    value = await cm.__aenter__()
    try:
        yield value
    except BaseException:
        with anyio.CancelScope(shield=True):
            if not await cm.__aexit__(*sys.exc_info()):
                raise
    else:
        with anyio.CancelScope(shield=True):
            await cm.__aexit__(None, None, None)
