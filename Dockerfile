# CyberMed: one image for web, worker and beat (docs/production.md). Multi-stage: the build stage makes the
# virtualenv and collects static files; the final stage copies them, with no compiler, pip cache or apt lists.
ARG PYTHON_IMAGE=python:3.11-slim-bookworm

FROM ${PYTHON_IMAGE} AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1 PYTHONDONTWRITEBYTECODE=1
WORKDIR /app
# Every dependency ships a wheel for this platform (psycopg[binary], argon2-cffi, Pillow): no build tools needed.
COPY requirements.txt .
RUN python -m venv /opt/venv \
    && /opt/venv/bin/pip install --no-cache-dir -r requirements.txt
COPY . .
# collectstatic reads settings only; the key exists for this command and is not kept in the image.
RUN SECRET_KEY=collectstatic-only DEBUG=false /opt/venv/bin/python manage.py collectstatic --noinput

FROM ${PYTHON_IMAGE}
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    DJANGO_SETTINGS_MODULE=cybermed.settings \
    MEDIA_ROOT=/app/media \
    PORT=8000 \
    LOG_FORMAT=json \
    WEB_CONCURRENCY=3
# The web server, as one line that compose or the orchestrator may override: uvicorn on the ASGI application
# (the API and the /ws/v1/ WebSocket on one port). uvicorn reads WEB_CONCURRENCY for --workers; on SIGTERM it
# lets requests finish and closes sockets with 1012 so that clients reconnect elsewhere. Each worker runs HTTP
# requests in ASGI_HTTP_THREADS (8) threads and keeps a pool of up to DB_POOL_MAX_SIZE PostgreSQL connections
# (Django refuses persistent connections beside a pool: DB_CONN_MAX_AGE=0).
ENV DB_CONN_MAX_AGE=0 DB_POOL_MAX_SIZE=8
ENV WEB_COMMAND="uvicorn cybermed.asgi:application --host 0.0.0.0 --port 8000 --proxy-headers --ws-max-size 65536 --ws-per-message-deflate false --timeout-graceful-shutdown 30 --no-access-log"
RUN groupadd --system --gid 10001 cybermed \
    && useradd --system --uid 10001 --gid cybermed --home-dir /app --no-create-home --shell /usr/sbin/nologin cybermed
WORKDIR /app
COPY --from=build /opt/venv /opt/venv
COPY --from=build /app /app
# Only the media folder (local storage, when S3_BUCKET is unset) is writable by the app.
RUN mkdir -p /app/media && chown cybermed:cybermed /app/media
USER 10001:10001
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=6s --start-period=20s --retries=3 CMD ["python", "-m", "cybermed.healthcheck"]
# exec: the server is PID 1's direct replacement, so it receives SIGTERM and shuts down gracefully.
CMD ["sh", "-c", "exec $WEB_COMMAND"]
