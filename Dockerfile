# syntax=docker/dockerfile:1
# alliance-bot: build with `docker build -t alliance-bot .`, run with compose.yaml.

# ---- build: a virtualenv with the pinned dependencies, then the bot itself ----------------------
FROM python:3.11-slim AS build

ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_INPUT=1

# pip 25.3 or later: its --build-constraint pins the build backend (hatchling) too.
RUN python -m venv /opt/venv && /opt/venv/bin/pip install --no-cache-dir pip==26.3
ENV PATH="/opt/venv/bin:$PATH"

WORKDIR /src

# Dependencies first, from pyproject's list pinned by constraints.txt: this layer is rebuilt only
# when either file changes, not on every source edit. Dev tools in constraints.txt are not
# installed because they are not in the list.
COPY pyproject.toml constraints.txt ./
RUN python -c "import tomllib; print('\n'.join(tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']))" > requirements.txt \
    && pip install --no-cache-dir -c constraints.txt -r requirements.txt

COPY README.md ./
COPY seeds/ seeds/
COPY bot/ bot/
RUN pip install --no-cache-dir --no-deps --build-constraint constraints.txt .

# ---- runtime: the virtualenv only, run as an unprivileged user -------------------------------
FROM python:3.11-slim

ENV PATH="/opt/venv/bin:$PATH" \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    ALLIANCE_DB=/app/data/alliance.db

RUN groupadd --system --gid 10001 alliance \
    && useradd --system --uid 10001 --gid alliance --home-dir /app --no-create-home alliance \
    && mkdir -p /app/data \
    && chown -R alliance:alliance /app

COPY --from=build /opt/venv /opt/venv

WORKDIR /app
# Numeric, so the host and orchestrators (runAsNonRoot) can tell it is not root.
USER 10001:10001
# The database lives here; a named volume created from it inherits the alliance owner.
VOLUME ["/app/data"]

# Exit 1 (not the CLI's 2 for a bad setting): Docker reserves 2.
HEALTHCHECK --interval=30s --timeout=10s --start-period=90s --retries=3 \
    CMD ["sh", "-c", "alliance-bot healthcheck || exit 1"]

STOPSIGNAL SIGTERM
ENTRYPOINT ["alliance-bot"]
CMD ["run"]
