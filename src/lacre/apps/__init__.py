"""Thin ASGI applications: parse, call one service, serialize, map errors to HTTP."""
