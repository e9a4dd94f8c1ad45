"""Benchmarks that print figures; each starts the in-process emulators it needs."""
