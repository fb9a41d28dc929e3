"""Fixtures gathered from the support modules (each owns the server it starts)."""
