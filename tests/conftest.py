"""Fixtures shared by the core and CLI tests."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path

import pytest

from bot.core.models import ArticleDraft


def _numbered_reports(count: int) -> list[ArticleDraft]:
    start = date(2000, 1, 1)
    return [
        ArticleDraft(
            title=f"防衛協力 第{n}報",
            body=f"日米の防衛協力について第{n}報。",
            published=start + timedelta(days=n),
            date_inferred=False,
            origin="many.jsonl",
            source=f"many.jsonl:{n}",
        )
        for n in range(count)
    ]


@pytest.fixture(scope="session")
def numbered_reports() -> Callable[[int], list[ArticleDraft]]:
    """Drafts "防衛協力 第n報" for n in range(count), one a day from 2000-01-01, oldest first."""
    return _numbered_reports


def _damage_middle(path: Path) -> None:
    conn = sqlite3.connect(path)
    try:
        pages, size = (
            conn.execute(f"PRAGMA {name}").fetchone()[0] for name in ("page_count", "page_size")
        )
    finally:
        conn.close()
    with path.open("r+b") as file:
        for page in range(pages // 3, 2 * pages // 3):
            file.seek(page * size)
            file.write(bytes(range(256)) * (size // 256))


@pytest.fixture(scope="session")
def damage_middle() -> Callable[[Path], None]:
    """Overwrites the middle third of a closed database's pages with junk, the same each time."""
    return _damage_middle
