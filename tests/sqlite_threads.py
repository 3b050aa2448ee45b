"""aiosqlite's connection threads in tests: which are running, and a gate that holds one inside a
query until the test lets it go."""

from __future__ import annotations

import asyncio
import threading

import aiosqlite


def sqlite_workers() -> set[threading.Thread]:
    """aiosqlite's worker threads still running (one per open connection): one left running
    keeps the process alive."""
    return {t for t in threading.enumerate() if t.name.endswith("(_connection_worker_thread)")}


class QueryGate:
    """`SELECT wait_at_gate()` blocks its connection until `open()` (30 s at most)."""

    def __init__(self) -> None:
        self._entered, self._opened = threading.Event(), threading.Event()

    async def install(self, conn: aiosqlite.Connection) -> None:
        """Make `wait_at_gate()` callable on `conn`."""
        await conn.create_function("wait_at_gate", 0, self._wait)

    async def entered(self) -> bool:
        """Wait until a query is held at the gate; False if none came within 30 s."""
        return await asyncio.to_thread(self._entered.wait, 30)

    def open(self) -> None:
        """Let every held query finish (each returns 1)."""
        self._opened.set()

    def _wait(self) -> int:
        self._entered.set()
        return int(self._opened.wait(30))
