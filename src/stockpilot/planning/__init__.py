"""Replenishment planning: pure functions over arrays and frames, no I/O."""
