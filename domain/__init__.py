"""Accord's event-sourced aggregates: plans, actions and users, and the rules they keep."""
