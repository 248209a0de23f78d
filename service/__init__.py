"""Accord's use cases, settings and the one bootstrap that wires them."""
