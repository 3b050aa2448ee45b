"""`python -m bot` and `alliance-bot`: the CLI of `bot.cli`.

The entry point imports the CLI itself, so Ctrl-C while its modules load (the first fraction of
a second) ends the command as Ctrl-C later does, with exit 130 and no traceback.
"""

from __future__ import annotations


def main() -> int:
    """Run the CLI on `sys.argv`; 130 when interrupted before it starts."""
    try:
        from bot.cli import main as cli_main
    except KeyboardInterrupt:
        return 130
    return cli_main()


if __name__ == "__main__":
    raise SystemExit(main())
