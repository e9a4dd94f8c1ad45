# AssetLink: the web process (gunicorn) by default; workers run the same image with
# `python manage.py worker --queues links` (compose.yaml, docs/deploy.md).
FROM python:3.11-slim-bookworm

# EXTRAS=sandbox adds the local Shopify/Cloudinary emulators (compose's "sandbox" service).
ARG EXTRAS=""

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    DJANGO_SETTINGS_MODULE=assetlink_project.settings \
    ASSETLINK_VAR_DIR=/app/var \
    STATIC_ROOT=/app/static \
    PORT=8000

WORKDIR /app

RUN groupadd --system --gid 10001 assetlink \
    && useradd --system --uid 10001 --gid assetlink --home-dir /app --shell /usr/sbin/nologin assetlink

COPY pyproject.toml README.md ./
COPY assetlink_project ./assetlink_project
COPY common ./common
COPY stores ./stores
COPY linking ./linking
COPY uploads ./uploads
COPY reports ./reports
COPY pages ./pages
COPY sandbox ./sandbox
COPY manage.py gunicorn.conf.py ./

# Every dependency is pinned exactly in pyproject.toml.
# hadolint ignore=DL3013
RUN pip install --no-compile ".${EXTRAS:+[$EXTRAS]}"

# Hashed, compressed static files for whitenoise. Settings need production values to load;
# these placeholders exist only during this build step.
RUN ASSETLINK_PROFILE=production \
    SECRET_KEY=build-only-placeholder-secret-key-not-used-at-run-time-0123456789 \
    ENCRYPTION_KEYS=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA= \
    SHOPIFY_API_KEY=build SHOPIFY_API_SECRET=build \
    DATABASE_URL=sqlite:////tmp/build.sqlite3 REDIS_URL=redis://127.0.0.1:6379/0 \
    python manage.py collectstatic --noinput -v 0 \
    && mkdir -p /app/var \
    && chown -R assetlink:assetlink /app/var

USER 10001:10001

EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-m", "assetlink_project.healthcheck"]

CMD ["gunicorn", "assetlink_project.wsgi"]
