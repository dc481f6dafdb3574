"""Persona simulations: LLM personas that use the app through the MCP gateway, then rate it."""
