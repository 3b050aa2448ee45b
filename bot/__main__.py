"""`python -m bot` runs the same CLI as `alliance-bot`."""

from bot.cli import main

raise SystemExit(main())
