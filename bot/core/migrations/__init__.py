"""Numbered, append-only schema migrations: NNNN_reason.sql."""
