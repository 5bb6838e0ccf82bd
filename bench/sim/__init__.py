"""Discrete-event simulation of the 长治 demo network running the real routing code."""
