# syntax=docker/dockerfile:1
# Overture's image: the wheel built in one stage, installed into a virtualenv, and only that
# virtualenv copied into a slim runtime that runs as an unprivileged user.
#
#   docker build -t overture .
#   docker run --rm -p 8000:8000 overture overture serve --host 0.0.0.0 --demo
#
# compose.yaml runs it with PostgreSQL, one API process and two workers.

# Any Debian-based image with Python 3.11+ on PATH as `python` (a registry mirror's, say).
ARG BASE_IMAGE=python:3.11-slim

FROM ${BASE_IMAGE} AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /src
COPY pyproject.toml README.md LICENSE ./
COPY src ./src
RUN python -m pip wheel --no-deps --wheel-dir /wheels . \
 && python -m venv /opt/overture \
 && /opt/overture/bin/pip install /wheels/*.whl \
 && /opt/overture/bin/pip uninstall --yes pip

FROM ${BASE_IMAGE} AS runtime
ENV PATH=/opt/overture/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    OVERTURE_LOG_FORMAT=json \
    OVERTURE_OUTBOX_DIR=/var/lib/overture/outbox
RUN groupadd --system --gid 10001 overture \
 && useradd --system --uid 10001 --gid overture --home-dir /var/lib/overture --create-home overture
COPY --from=build /opt/overture /opt/overture
USER overture:overture
WORKDIR /var/lib/overture
EXPOSE 8000
# The API's liveness probe; worker and migrate containers have no HTTP port and turn it off.
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
  CMD ["python", "-c", "import sys, urllib.request as u; sys.exit(u.urlopen('http://127.0.0.1:8000/healthz', timeout=4).status != 200)"]
# SQLite in /var/lib/overture unless OVERTURE_DATABASE_URL points at PostgreSQL.
CMD ["overture", "serve", "--host", "0.0.0.0"]
