"""The local run console: run pages with a timeline, proposals and personas, over transcripts.

Every name is imported from its module on first use.
"""

from typing import TYPE_CHECKING

from planner import lazy_exports

if TYPE_CHECKING:
    from console.timeline import CallView, RoundView, RunView, as_json, build_run, peak_overlap

__getattr__ = lazy_exports(
    __name__,
    {
        "console.timeline": (
            "CallView",
            "RoundView",
            "RunView",
            "as_json",
            "build_run",
            "peak_overlap",
        ),
    },
)

__all__ = [
    "CallView",
    "RoundView",
    "RunView",
    "as_json",
    "build_run",
    "peak_overlap",
]
