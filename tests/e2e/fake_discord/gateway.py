"""The gateway websocket: HELLO, IDENTIFY/READY, GUILD_CREATE, heartbeats, RESUME, dispatches.

Transport compression follows the `compress` query parameter: `zlib-stream` (one zlib
stream per connection, every message ended with Z_SYNC_FLUSH, sent as binary frames),
`zstd-stream` when a zstd module is importable, or plain text frames.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import zlib
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import orjson
from aiohttp import WSMsgType, web

if TYPE_CHECKING:
    from .server import FakeDiscord

JSON = dict[str, Any]
log = logging.getLogger(__name__)

# Opcodes and close codes from Discord's "Opcodes and Status Codes" topic.
DISPATCH, HEARTBEAT, IDENTIFY, PRESENCE_UPDATE = 0, 1, 2, 3
RESUME, RECONNECT, REQUEST_GUILD_MEMBERS, INVALID_SESSION = 6, 7, 8, 9
HELLO, HEARTBEAT_ACK = 10, 11
CLOSE_UNKNOWN_OPCODE, CLOSE_DECODE_ERROR, CLOSE_NOT_AUTHENTICATED = 4001, 4002, 4003
CLOSE_AUTHENTICATION_FAILED, CLOSE_ALREADY_AUTHENTICATED = 4004, 4005
CLOSE_INVALID_API_VERSION, CLOSE_DISALLOWED_INTENTS = 4012, 4014
PRIVILEGED_INTENTS = (1 << 1) | (1 << 8) | (1 << 15)  # members, presences, message content


class _Compressor:
    """Per-connection transport compression."""

    def __init__(self, kind: str | None) -> None:
        self.kind = kind
        self._zlib = zlib.compressobj() if kind == "zlib-stream" else None
        self._zstd: Any = None
        if kind == "zstd-stream":
            self._zstd = _zstd_compressobj()

    def encode(self, payload: JSON) -> bytes | str:
        data = orjson.dumps(payload)
        if self._zlib is not None:
            return self._zlib.compress(data) + self._zlib.flush(zlib.Z_SYNC_FLUSH)
        if self._zstd is not None:
            return bytes(self._zstd.compress(data) + self._zstd.flush(1))
        return data.decode()


def _zstd_compressobj() -> Any:
    try:
        import zstandard  # type: ignore[import-not-found]
    except ImportError as exc:
        raise ValueError("zstd-stream requested but no zstd module is installed") from exc
    return zstandard.ZstdCompressor().compressobj()


def zstd_available() -> bool:
    """Whether this interpreter can serve `compress=zstd-stream`."""
    try:
        _zstd_compressobj()
    except ValueError:
        return False
    return True


@dataclass
class Session:
    """A gateway session; it outlives its connection so the client can RESUME it."""

    session_id: str
    intents: int
    shard: list[int] | None
    seq: int = 0
    sent: list[JSON] = field(default_factory=list)
    connection: Connection | None = None


class Connection:
    """One websocket connection, with its compressor and a lock keeping frames in order."""

    def __init__(self, ws: web.WebSocketResponse, compressor: _Compressor) -> None:
        self.ws = ws
        self.compressor = compressor
        self.lock = asyncio.Lock()
        self.session: Session | None = None
        self.last_heartbeat: float | None = None

    async def send(self, payload: JSON) -> None:
        async with self.lock:
            if self.ws.closed:
                return
            frame = self.compressor.encode(payload)
            if isinstance(frame, bytes):
                await self.ws.send_bytes(frame)
            else:
                await self.ws.send_str(frame)


class Gateway:
    """Serves /gateway for a `FakeDiscord`; tests reach it as `double.gateway`."""

    def __init__(self, double: FakeDiscord, *, heartbeat_interval_ms: int) -> None:
        self.double = double
        self.heartbeat_interval_ms = heartbeat_interval_ms
        self.sessions: dict[str, Session] = {}
        self.connections: set[Connection] = set()
        self.received: list[JSON] = []
        """Every payload clients sent (IDENTIFY tokens included), in order."""
        self.compressions: list[str | None] = []
        """The `compress` query parameter of each connection, in order."""
        self.late_heartbeats: list[float] = []
        """Gaps between heartbeats longer than 1.5 intervals: the client's loop was blocked."""
        self.identify_count = 0
        self.resume_count = 0
        self.unavailable = False
        """While True, connections are refused with 503 before the upgrade, as when Discord's
        gateway is down or unreachable through a proxy."""
        self.refused = 0
        """How many connections were refused so."""

    # --- test-side controls -------------------------------------------------------------------

    @property
    def live_sessions(self) -> list[Session]:
        """Sessions that currently have an open connection."""
        return [s for s in self.sessions.values() if s.connection is not None]

    async def dispatch(self, event: str, data: JSON, *, intent: int = 0) -> int:
        """Send a DISPATCH to every live session subscribed to `intent` (0 = always sent).

        Each session numbers its dispatches; returns how many sessions got the event.
        """
        sessions = [s for s in self.live_sessions if not intent or s.intents & intent]
        for session in sessions:
            await self._dispatch(session, event, data)
        return len(sessions)

    async def request_reconnect(self) -> None:
        """Send op 7 RECONNECT; discord.py then reconnects and RESUMEs."""
        for session in self.live_sessions:
            assert session.connection is not None
            await session.connection.send({"op": RECONNECT, "d": None, "s": None, "t": None})

    async def invalidate_sessions(self, *, resumable: bool = False) -> None:
        """Send op 9 INVALID_SESSION to every live session."""
        for session in self.live_sessions:
            assert session.connection is not None
            await session.connection.send(
                {"op": INVALID_SESSION, "d": resumable, "s": None, "t": None}
            )

    async def close_all(self, code: int = 1001, message: bytes = b"") -> None:
        """Close every open connection with `code`."""
        for connection in list(self.connections):
            await connection.ws.close(code=code, message=message)

    # --- websocket handler --------------------------------------------------------------------

    async def handle(self, request: web.Request) -> web.StreamResponse:
        """aiohttp handler for GET /gateway (websocket upgrade)."""
        if self.unavailable:
            self.refused += 1
            await self.double.notify()
            return web.Response(status=503, text="upstream connect error")
        ws = web.WebSocketResponse(max_msg_size=0)
        await ws.prepare(request)
        compress = request.query.get("compress")
        try:
            compressor = _Compressor(compress)
        except ValueError:
            await ws.close(code=CLOSE_DECODE_ERROR, message=b"Unsupported compression.")
            return ws
        connection = Connection(ws, compressor)
        self.compressions.append(compress)
        if request.query.get("v") != "10" or request.query.get("encoding", "json") != "json":
            await ws.close(code=CLOSE_INVALID_API_VERSION, message=b"Invalid API version.")
            return ws
        self.connections.add(connection)
        try:
            hello = {"heartbeat_interval": self.heartbeat_interval_ms, "_trace": ["fake-gw"]}
            await connection.send({"op": HELLO, "d": hello, "s": None, "t": None})
            async for msg in ws:
                if msg.type is not WSMsgType.TEXT and msg.type is not WSMsgType.BINARY:
                    break
                try:
                    payload = orjson.loads(msg.data)
                except ValueError:
                    await ws.close(
                        code=CLOSE_DECODE_ERROR, message=b"Error while decoding payload."
                    )
                    break
                self.received.append(payload)
                await self._receive(connection, payload)
        finally:
            self.connections.discard(connection)
            if connection.session is not None and connection.session.connection is connection:
                connection.session.connection = None
        return ws

    async def _receive(self, connection: Connection, payload: JSON) -> None:
        op = payload.get("op")
        data = payload.get("d")
        if op == HEARTBEAT:
            self._note_heartbeat(connection)
            await connection.send({"op": HEARTBEAT_ACK, "d": None, "s": None, "t": None})
        elif op == IDENTIFY:
            await self._identify(connection, data or {})
        elif op == RESUME:
            await self._resume(connection, data or {})
        elif connection.session is None:
            await connection.ws.close(code=CLOSE_NOT_AUTHENTICATED, message=b"Not authenticated.")
        elif op == REQUEST_GUILD_MEMBERS:
            await self._members_chunk(connection.session, data or {})
        elif op == PRESENCE_UPDATE:
            pass
        else:
            await connection.ws.close(code=CLOSE_UNKNOWN_OPCODE, message=b"Unknown opcode.")

    def _note_heartbeat(self, connection: Connection) -> None:
        now = asyncio.get_running_loop().time()
        if connection.last_heartbeat is not None:
            gap = now - connection.last_heartbeat
            if gap > 1.5 * self.heartbeat_interval_ms / 1000:
                self.late_heartbeats.append(gap)
        connection.last_heartbeat = now

    async def _identify(self, connection: Connection, data: JSON) -> None:
        if connection.session is not None:
            await connection.ws.close(
                code=CLOSE_ALREADY_AUTHENTICATED, message=b"Already authenticated."
            )
            return
        if data.get("token") != self.double.token:
            await connection.ws.close(
                code=CLOSE_AUTHENTICATION_FAILED, message=b"Authentication failed."
            )
            return
        intents = int(data.get("intents", 0))
        if intents & PRIVILEGED_INTENTS & ~self.double.privileged_intents:
            await connection.ws.close(
                code=CLOSE_DISALLOWED_INTENTS, message=b"Disallowed intent(s)."
            )
            return
        session = Session(secrets.token_hex(16), intents, data.get("shard"))
        self.sessions[session.session_id] = session
        session.connection = connection
        connection.session = session
        self.identify_count += 1
        await self._dispatch(session, "READY", self.double.ready_payload(session))
        for guild in self.double.guilds:
            await self._dispatch(session, "GUILD_CREATE", self.double.guild_create_payload(guild))

    async def _resume(self, connection: Connection, data: JSON) -> None:
        session = self.sessions.get(data.get("session_id", ""))
        if data.get("token") != self.double.token:
            await connection.ws.close(
                code=CLOSE_AUTHENTICATION_FAILED, message=b"Authentication failed."
            )
            return
        if session is None:
            await connection.send({"op": INVALID_SESSION, "d": False, "s": None, "t": None})
            return
        session.connection = connection
        connection.session = session
        self.resume_count += 1
        last = int(data.get("seq") or 0)
        for missed in session.sent:
            if missed["s"] > last:
                await connection.send(missed)
        await self._dispatch(session, "RESUMED", {"_trace": ["fake-gw"]})

    async def _members_chunk(self, session: Session, data: JSON) -> None:
        guild_id = int(data.get("guild_id", 0))
        guild = next((g for g in self.double.guilds if g.id == guild_id), None)
        members = [self.double.bot_member(guild)] if guild else []
        chunk: JSON = {
            "guild_id": str(guild_id),
            "members": members,
            "chunk_index": 0,
            "chunk_count": 1,
            "not_found": [],
        }
        if data.get("nonce") is not None:
            chunk["nonce"] = data["nonce"]
        await self._dispatch(session, "GUILD_MEMBERS_CHUNK", chunk)

    async def _dispatch(self, session: Session, event: str, data: JSON) -> None:
        session.seq += 1
        payload = {"op": DISPATCH, "t": event, "s": session.seq, "d": data}
        session.sent.append(payload)
        if session.connection is not None:
            await session.connection.send(payload)
