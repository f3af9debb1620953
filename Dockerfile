# syntax=docker/dockerfile:1
# The production-shaped image: web (gunicorn), worker and beat all run from the `app` stage;
# flower runs from the `flower` stage (the same image plus flower, which the app does not need).
# docker-compose.yml picks the stage per service; a plain `docker build .` builds `app`.

# The base: python:3.11-slim from the public registry; where that cannot be reached, a local
# image with Python 3.11 first on PATH (scripts/stack_images.sh builds one from Debian packages):
#   docker build --build-arg BASE_IMAGE=foot-care-base-python:bookworm .
ARG BASE_IMAGE=python:3.11-slim

FROM ${BASE_IMAGE} AS app

# The package is installed into site-packages (not editable), so the paths it would derive from
# its own location do not exist here: TEMPLATES_DIR and OUTBOX_DIR say where those are.
ENV PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_INPUT=1 \
    TEMPLATES_DIR=/app/templates \
    OUTBOX_DIR=/app/var/outbox

WORKDIR /app

RUN groupadd --system app \
    && useradd --system --gid app --home-dir /app --no-create-home --shell /usr/sbin/nologin app

# Dependencies first (their layer is reused until pyproject.toml changes): the pinned list from
# pyproject.toml, written out as a requirements file. README.md (the package's long description)
# comes with the code below, so that editing it does not reinstall every dependency.
COPY pyproject.toml ./
RUN python -c "import tomllib; print('\n'.join(tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']))" > /tmp/requirements.txt \
    && pip install --no-cache-dir -r /tmp/requirements.txt \
    && rm /tmp/requirements.txt

# Then the package itself; the source copy is removed so there is exactly one copy of the code.
COPY README.md ./
COPY reminders/ reminders/
RUN pip install --no-cache-dir --no-deps . \
    && rm -rf reminders build ./*.egg-info README.md

# Celery finds `worker.py` in the working directory (`celery -A worker ...`).
COPY worker.py ./
COPY templates/ templates/
RUN mkdir -p var/outbox && chown -R app:app var

USER app
EXPOSE 8000
CMD ["gunicorn", "--bind", "0.0.0.0:8000", "--no-control-socket", "reminders.web:wsgi_app()"]


FROM app AS flower
USER root
RUN pip install --no-cache-dir flower==2.0.1
USER app
EXPOSE 5555
CMD ["celery", "-A", "worker", "flower", "--port=5555"]


# Last, so that the default build target is the application image.
FROM app AS runtime
