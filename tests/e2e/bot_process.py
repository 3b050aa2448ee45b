"""Run the real bot (`python -m bot …`) as a subprocess pointed at the Discord double.

async with bot_running(double, db_path) as bot:   # started, READY, synced if it syncs
    ...
assert bot.returncode == 0                       # stopped with SIGTERM on exit
assert "Traceback" not in bot.stderr
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import signal
import sys
from collections.abc import AsyncIterator, Mapping
from pathlib import Path

from fake_discord import FakeDiscord

STOP_TIMEOUT = 15.0
READY_TIMEOUT = 30.0
SHIPPED_SEEDS = Path(__file__).resolve().parents[2] / "seeds"
LONG_ARTICLE_TITLE = "長大記事テストの第1段落"
"""The headline of the long article `seeds_with_long_article` adds (its first sentence)."""


def long_article_paragraphs() -> list[str]:
    """Twelve paragraphs, about 7,700 characters: more than one embed description holds."""
    sentence = "抑止力の強化と同盟の運用について、政府関係者は慎重に検討を続けている。"
    return [f"長大記事テストの第{i}段落。" + sentence * 18 for i in range(1, 13)]


def seeds_with_long_article(directory: Path) -> Path:
    """A seeds directory: the shipped seeds plus one long dated article (layout 2)."""
    directory.mkdir(parents=True, exist_ok=True)
    for seed in SHIPPED_SEEDS.glob("*.txt"):
        shutil.copy(seed, directory / seed.name)
    first, *rest = long_article_paragraphs()
    body = "\n\n".join([f"date 2025-01-06 {first}", *rest])
    (directory / "900_long_article.txt").write_text(body + "\n", encoding="utf-8")
    return directory


def bot_env(
    double: FakeDiscord, db: Path, extra: Mapping[str, str] | None = None
) -> dict[str, str]:
    """The environment of a bot subprocess: this one's, minus any ALLIANCE_ setting or token."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("ALLIANCE_") and k not in ("DISCORD_TOKEN", "PYTHONWARNINGS")
    }
    env.update(double.env())
    env["ALLIANCE_DB"] = str(db)
    env.update(extra or {})
    return env


class BotProcess:
    """One `python -m bot <args>` subprocess whose stdout and stderr go to files."""

    def __init__(self, workdir: Path, args: tuple[str, ...], env: dict[str, str]) -> None:
        self.workdir = workdir
        self.args = args
        self.env = env
        self.stdout_path = workdir / "stdout.txt"
        self.stderr_path = workdir / "stderr.txt"
        self.proc: asyncio.subprocess.Process | None = None

    async def start(self) -> None:
        """Start the process, with the work directory (no `.env` there) as its cwd."""
        self.workdir.mkdir(parents=True, exist_ok=True)
        with self.stdout_path.open("wb") as out, self.stderr_path.open("wb") as err:
            self.proc = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "bot",
                *self.args,
                cwd=self.workdir,
                env=self.env,
                stdin=asyncio.subprocess.DEVNULL,
                stdout=out,
                stderr=err,
            )

    async def wait(self, timeout: float = STOP_TIMEOUT) -> int:  # noqa: ASYNC109
        """Wait for the process to exit by itself and return its exit code."""
        assert self.proc is not None
        return await asyncio.wait_for(self.proc.wait(), timeout)

    async def stop(self) -> int:
        """SIGTERM, then wait; kill (and fail) if it does not stop in time."""
        assert self.proc is not None
        if self.proc.returncode is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(self.proc.wait(), STOP_TIMEOUT)
            except TimeoutError:
                self.proc.kill()
                await self.proc.wait()
                raise AssertionError(f"the bot ignored SIGTERM:\n{self.stderr}") from None
        return self.returncode

    @property
    def returncode(self) -> int:
        assert self.proc is not None
        assert self.proc.returncode is not None
        return self.proc.returncode

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.returncode is None

    @property
    def stdout(self) -> str:
        return self.stdout_path.read_text(errors="replace") if self.stdout_path.exists() else ""

    @property
    def stderr(self) -> str:
        return self.stderr_path.read_text(errors="replace") if self.stderr_path.exists() else ""


async def run_command(
    double: FakeDiscord,
    db: Path,
    workdir: Path,
    *args: str,
    env: Mapping[str, str] | None = None,
) -> BotProcess:
    """Run a short-lived `python -m bot <args>` to completion and return it."""
    process = BotProcess(workdir, args, bot_env(double, db, env))
    await process.start()
    try:
        await process.wait(timeout=READY_TIMEOUT)
    finally:
        if process.running:
            with contextlib.suppress(ProcessLookupError):
                assert process.proc is not None
                process.proc.kill()
                await process.proc.wait()
    return process


@contextlib.asynccontextmanager
async def bot_running(
    double: FakeDiscord,
    db: Path,
    workdir: Path | None = None,
    *,
    env: Mapping[str, str] | None = None,
) -> AsyncIterator[BotProcess]:
    """`python -m bot run`, yielded once it identified on the gateway; SIGTERM on exit.

    The bot syncs (if it does) in `setup_hook`, before it connects, so by the time it has
    identified any command sync is already recorded by the double. On exit the process must
    stop with exit code 0 and no traceback on stderr.
    """
    identifies = double.gateway.identify_count + 1
    workdir = workdir or db.parent / f"run{identifies}"
    process = BotProcess(workdir, ("run",), bot_env(double, db, env))
    await process.start()
    try:
        ready = asyncio.ensure_future(double.wait_ready(READY_TIMEOUT, identifies=identifies))
        assert process.proc is not None
        exited = asyncio.ensure_future(process.proc.wait())
        await asyncio.wait({ready, exited}, return_when=asyncio.FIRST_COMPLETED)
        if not ready.done():
            ready.cancel()
            raise AssertionError(f"the bot exited before READY:\n{process.stderr}")
        exited.cancel()
        ready.result()
        yield process
    finally:
        code = await process.stop()
    assert code == 0, f"exit code {code}:\n{process.stderr}"
    assert "Traceback" not in process.stderr, process.stderr
