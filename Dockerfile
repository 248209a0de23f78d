# Accord: the HTTP API by default; the same image runs the RQ worker (`accord worker`, see docker-compose.yml).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1 \
    ACCORD_HOST=0.0.0.0

RUN groupadd --system --gid 10001 accord \
    && useradd --system --uid 10001 --gid accord --home-dir /app --no-create-home --shell /usr/sbin/nologin accord

# WeasyPrint (PDF reports) needs Pango and a font; slim has neither.
RUN apt-get update \
    && apt-get install -y --no-install-recommends libpango-1.0-0 libpangoft2-1.0-0 fonts-dejavu-core \
    && rm -rf /var/lib/apt/lists/*

# Install the project (runtime dependencies only, no dev extras) into site-packages, then drop the sources.
COPY . /src
RUN pip install --no-cache-dir /src && rm -rf /src

# The working directory holds var/ (SQLite fallback, demo tokens), so it belongs to the runtime user.
WORKDIR /app
RUN chown accord:accord /app
USER accord

EXPOSE 5000

# /healthz says the process is up (readiness, /readyz, is checked by the orchestrator); slim has no curl.
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:5000/healthz', timeout=3)"]

CMD ["gunicorn", "--bind", "0.0.0.0:5000", "--workers", "2", "--threads", "4", "--config", "python:api.served", "api:create_app()"]
