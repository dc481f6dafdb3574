"""The local run console: run pages with a timeline, proposals and personas, over transcripts."""

from console.timeline import CallView, RoundView, RunView, as_json, build_run, peak_overlap

__all__ = ["CallView", "RoundView", "RunView", "as_json", "build_run", "peak_overlap"]
