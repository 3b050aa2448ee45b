"""Typed settings read from the environment and an optional `.env` file."""

from __future__ import annotations

from functools import cached_property
from pathlib import Path
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from pydantic import AliasChoices, Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PACKAGE_DIR = Path(__file__).resolve().parent


def shipped_seeds_dir() -> Path:
    """The seed corpus that ships with the bot: the repo's `seeds/` or the wheel's copy."""
    checkout = PACKAGE_DIR.parent / "seeds"
    if checkout.is_dir():
        return checkout
    return PACKAGE_DIR / "_seeds"


class SettingsError(Exception):
    """Raised with one readable line when the environment holds an invalid setting."""


ENV_FILE = ".env"


def _check_url(value: str, schemes: tuple[str, ...]) -> str:
    """`value` if it is an absolute URL with one of `schemes` and a host, else `ValueError`."""
    wanted = " or ".join(f"{scheme}://" for scheme in schemes)
    try:
        parts = urlsplit(value.strip())
        parts.port  # noqa: B018  # raises ValueError on a port that is not a number in range
    except ValueError:  # also an unclosed IPv6 address, "http://[::1"
        parts = None
    if parts is None or parts.scheme.lower() not in schemes or not parts.hostname:
        raise ValueError(f"expected a {wanted} URL with a host, got {value!r}")
    return value.strip()


class Settings(BaseSettings):
    """Every knob an operator can turn; see the README's settings table."""

    model_config = SettingsConfigDict(
        env_prefix="ALLIANCE_",
        env_file=ENV_FILE,
        env_file_encoding="utf-8",
        extra="ignore",
        # `ALLIANCE_DEV_GUILD=` (as .env.example shows it, uncommented) means unset, not invalid.
        env_ignore_empty=True,
    )

    discord_token: SecretStr | None = Field(
        default=None, validation_alias=AliasChoices("DISCORD_TOKEN", "ALLIANCE_DISCORD_TOKEN")
    )
    db: Path = Path("data/alliance.db")
    seeds: Path = Field(default_factory=shipped_seeds_dir)
    timezone: str = "Asia/Tokyo"
    log_level: str = "INFO"
    log_format: str = "text"
    # A Discord id (snowflake): a server's, where commands are synced at once for development.
    dev_guild: int | None = Field(default=None, ge=1, le=2**64 - 1)
    discord_api_url: str = "https://discord.com/api/v10"
    discord_gateway_url: str | None = None
    # At most a week: the next week's digest is due by then.
    digest_grace_hours: float = Field(default=24.0, ge=0, le=168, allow_inf_nan=False)
    # A digest run that fails or can't confirm its post is tried again after this many seconds,
    # then after twice as long each time (up to an hour), within the grace period.
    digest_retry_s: float = Field(default=60.0, gt=0, le=3600, allow_inf_nan=False)
    # Discord drops an interaction not acknowledged within 3 s; an answer still being prepared
    # after this many seconds is deferred first ("thinking…") and sent as a followup.
    defer_after_s: float = Field(default=2.0, ge=0, le=2.5, allow_inf_nan=False)
    # Read-only connections that answer members' searches side by side (see bot.bot).
    db_readers: int = Field(default=2, ge=1, le=8)
    # Members repeat searches and page back and forth: answer a repeated page from memory until
    # the corpus changes (a change to articles, index or topics, from any process, empties it).
    search_cache: bool = True
    # Whether server admins may add and remove feeds with /alliance-feeds. The feeds are the
    # bot's, not a server's: a bot in servers its operator does not run can leave them to the
    # operator (feeds.toml, `alliance-bot feeds`).
    feeds_by_command: bool = True

    @field_validator("db", mode="before")
    @classmethod
    def _db_named(cls, value: object) -> object:
        # A blank value would make a database file named " " in the working directory.
        if isinstance(value, str) and not value.strip():
            raise ValueError("must name the database file, e.g. data/alliance.db")
        return value

    @field_validator("seeds")
    @classmethod
    def _seeds_folder(cls, value: Path) -> Path:
        # Checked only when set: a missing folder would silently leave the database empty.
        if not value.is_dir():
            raise ValueError(f"not an existing folder: {str(value)!r}")
        return value

    @field_validator("discord_api_url")
    @classmethod
    def _api_url(cls, value: str) -> str:
        return _check_url(value, ("https", "http"))

    @field_validator("discord_gateway_url")
    @classmethod
    def _gateway_url(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None  # set but empty: Discord's own gateway
        return _check_url(value, ("wss", "ws"))

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        # The names a digest schedule accepts (not `localtime`, the host's clock), so that a
        # schedule set without a timezone can take this one. Loaded only when the setting is set.
        from bot.core.schedules import ScheduleError, parse_timezone

        try:
            return parse_timezone(value)
        except ScheduleError as exc:
            raise ValueError(f"unknown IANA timezone {value!r}") from exc

    @field_validator("log_level")
    @classmethod
    def _known_level(cls, value: str) -> str:
        level = value.upper()
        if level not in {"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"}:
            raise ValueError("must be one of DEBUG, INFO, WARNING, ERROR, CRITICAL")
        return level

    @field_validator("log_format")
    @classmethod
    def _known_format(cls, value: str) -> str:
        fmt = value.lower()
        if fmt not in {"text", "json"}:
            raise ValueError("must be 'text' or 'json'")
        return fmt

    @cached_property
    def tz(self) -> ZoneInfo:
        """The default timezone as a `ZoneInfo`."""
        return ZoneInfo(self.timezone)


def load_settings() -> Settings:
    """Read the settings, turning validation errors into one `SettingsError` line."""
    try:
        return Settings()
    except UnicodeDecodeError as exc:
        where = Path(ENV_FILE).absolute()
        raise SettingsError(
            f"cannot read the settings file {where}: not UTF-8 text (byte {exc.start})"
        ) from None
    except OSError as exc:
        where = exc.filename or Path(ENV_FILE).absolute()
        reason = exc.strerror or str(exc)
        raise SettingsError(f"cannot read the settings file {where}: {reason}") from None
    except ValidationError as exc:
        first = exc.errors()[0]
        name = "_".join(str(part) for part in first["loc"]) or "settings"
        env_name = name if name.isupper() else f"ALLIANCE_{name.upper()}"
        # Our validators' own messages, without the "Value error, " pydantic puts before them.
        message = first["msg"].removeprefix("Value error, ")
        raise SettingsError(f"invalid setting {env_name}: {message}") from None
