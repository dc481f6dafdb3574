"""Shared pytest settings."""

from __future__ import annotations

import os

os.environ.setdefault("POLICY_MODE", "log-only")
