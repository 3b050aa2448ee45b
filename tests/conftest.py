"""Fixtures shared by the core and CLI tests."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta

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
