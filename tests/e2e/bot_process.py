"""Run the real bot (`python -m bot …`) as a subprocess pointed at the Discord double.

async with bot_running(double, db_path) as bot:   # started, READY, synced if it syncs
    ...
assert bot.returncode == 0                       # stopped with SIGTERM on exit
assert "Traceback" not in bot.output

`run_command` runs a short-lived command (`sync`, `invite-url`) to completion; `BotRuns` starts
and stops `run` on one database as a test says, for state written before the start and restarts.
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
from types import TracebackType

from fake_discord import FakeDiscord

from bot.core import db as database

STOP_TIMEOUT = 15.0
READY_TIMEOUT = 30.0
LOG_TIMEOUT = 10.0
ROOT = Path(__file__).resolve().parents[2]
SHIPPED_SEEDS = ROOT / "seeds"
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
    """The environment of a bot subprocess: this one's, minus any ALLIANCE_ or DISCORD_ setting
    and PYTHONWARNINGS; the double's URLs and token, the database, this checkout's `bot` first
    on the path, then `extra` (e.g. ALLIANCE_LOG_LEVEL, or DISCORD_TOKEN to replace the double's).
    """
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("ALLIANCE_", "DISCORD_")) and k != "PYTHONWARNINGS"
    }
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    env.update(double.env())
    env["ALLIANCE_DB"] = str(db)
    env.update(extra or {})
    return env


def wal_bytes(db: Path) -> int:
    """Bytes in the database's write-ahead log: 0 (or no file) once the bot closed it cleanly."""
    wal = Path(f"{db}-wal")
    return wal.stat().st_size if wal.exists() else 0


class BotProcess:
    """One `python -m bot <args>` subprocess whose stdout and stderr go to files."""

    def __init__(self, workdir: Path, args: tuple[str, ...], env: dict[str, str]) -> None:
        self.workdir = workdir
        self.args = args
        self.env = env
        self.stdout_path = workdir / "stdout.txt"
        self.stderr_path = workdir / "stderr.txt"
        self.proc: asyncio.subprocess.Process | None = None
        self.killed = False
        """Killed on purpose (a crash), so its exit code says nothing."""

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

    async def wait_logged(self, text: str, timeout: float = LOG_TIMEOUT) -> None:  # noqa: ASYNC109
        """Wait until the process has logged `text`; fail if it exits or the time runs out."""
        try:
            async with asyncio.timeout(timeout):
                while text not in self.stderr:
                    assert self.running, f"exited before logging {text!r}:\n{self.stderr}"
                    await asyncio.sleep(0.02)
        except TimeoutError:
            raise AssertionError(f"{text!r} not logged in {timeout}s:\n{self.stderr}") from None

    async def stop(self, signum: int = signal.SIGTERM) -> int:
        """Send `signum` (SIGTERM) and wait; kill (and fail) if it does not stop in time."""
        assert self.proc is not None
        if self.proc.returncode is None:
            self.proc.send_signal(signum)
            try:
                await asyncio.wait_for(self.proc.wait(), STOP_TIMEOUT)
            except TimeoutError:
                await self.kill()
                name = signal.Signals(signum).name
                raise AssertionError(f"the bot ignored {name}:\n{self.stderr}") from None
        return self.returncode

    async def kill(self) -> None:
        """SIGKILL, if it is still running, and reap it."""
        assert self.proc is not None
        self.killed = True
        if self.proc.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                self.proc.kill()
            await self.proc.wait()

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

    @property
    def output(self) -> str:
        """Everything it printed: stdout, then stderr (where its log goes)."""
        return self.stdout + self.stderr


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
        await process.kill()
    return process


@contextlib.asynccontextmanager
async def bot_running(
    double: FakeDiscord,
    db: Path,
    workdir: Path | None = None,
    *,
    env: Mapping[str, str] | None = None,
    until_logged: str | None = None,
) -> AsyncIterator[BotProcess]:
    """`python -m bot run`, yielded once it identified on the gateway; SIGTERM on exit.

    The bot syncs (if it does) in `setup_hook`, before it connects, so by the time it has
    identified any command sync is already recorded by the double. With `until_logged`, it is
    yielded only once its log also contains that text (e.g. a job's "done" line). The work
    directory defaults to `run<N>` beside the database, N counting the double's IDENTIFYs. On
    exit (the body may already have stopped it, e.g. with another signal) the process must have
    exited with code 0 and printed no traceback.
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
        if until_logged is not None:
            await process.wait_logged(until_logged)
        yield process
    finally:
        code = await process.stop()
    assert code == 0 or process.killed, f"exit code {code}:\n{process.stderr}"
    assert "Traceback" not in process.output, process.output


class BotRuns:
    """`python -m bot run` on one database, started, stopped and restarted as the test says.

    For a test that prepares the database or the double before the first start, or restarts
    the bot mid-test. Each run is a `bot_running`, with its checks when it stops; leaving the
    `async with` stops the run still going.
    """

    def __init__(
        self, double: FakeDiscord, db: Path, *, env: Mapping[str, str] | None = None
    ) -> None:
        self.double = double
        self.db = db
        self.env = env
        self.runs: list[BotProcess] = []
        self._running: contextlib.AsyncExitStack | None = None

    async def start(self, *, until_logged: str | None = None) -> BotProcess:
        """Start a run; return it once READY (and `until_logged` logged, if given)."""
        assert self._running is None, "already running"
        stack = contextlib.AsyncExitStack()
        run = bot_running(self.double, self.db, env=self.env, until_logged=until_logged)
        self.runs.append(await stack.enter_async_context(run))
        self._running = stack
        return self.runs[-1]

    async def stop(self) -> None:
        """SIGTERM the current run; it must exit with code 0 and no traceback."""
        stack, self._running = self._running, None
        assert stack is not None, "not running"
        await stack.aclose()

    async def restart(self, *, until_logged: str | None = None) -> BotProcess:
        """Stop the current run (checked as in `stop`) and start another on the same database."""
        await self.stop()
        return await self.start(until_logged=until_logged)

    @property
    def output(self) -> str:
        """Everything every run printed, oldest first."""
        return "\n".join(run.output for run in self.runs)

    async def __aenter__(self) -> BotRuns:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        stack, self._running = self._running, None
        if stack is not None:
            await stack.__aexit__(exc_type, exc, tb)


async def hold_write_lock(db: Path, seconds: float) -> asyncio.Task[None]:
    """Take SQLite's write lock on a connection of the test's own, as a long feed ingest holds
    it, and let go of it (writing nothing) after `seconds`; the task ends once it has."""
    conn = await database.connect(db)
    try:
        await conn.execute("BEGIN IMMEDIATE")
    except BaseException:
        await conn.close()
        raise

    async def release() -> None:
        try:
            await asyncio.sleep(seconds)
            await conn.rollback()
        finally:
            await conn.close()

    return asyncio.create_task(release())
