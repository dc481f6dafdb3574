"""Tests of the MCP gateway and of MCP servers as tool sources."""
