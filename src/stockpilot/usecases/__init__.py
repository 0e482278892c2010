"""Use cases: one module per capability; each function takes a unit of work and an actor.

Edges (``api``, ``web``, ``cli``, ``jobs``) parse input, call a use case and render what it
returns. Keep this file free of re-exports so modules can be added without merge conflicts.
"""
