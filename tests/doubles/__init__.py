"""Test doubles of the Shopify client: a killed worker (around the real client) and an
in-memory fake Shopify for the executors' fast unit tests."""
