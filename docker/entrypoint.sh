#!/bin/sh
# Container entrypoint: one image, three roles.
#   web     gunicorn payplug.wsgi:application (runs `migrate` first when MIGRATE=1)
#   worker  celery -A payplug worker
#   beat    celery -A payplug beat (run exactly one)
# Any other command runs as given, e.g. `docker compose run --rm web python manage.py createsuperuser`.
# Extra arguments after a role are passed on to its program.
set -eu

role="${1:-web}"
case "$role" in
  web|worker|beat) if [ "$#" -gt 0 ]; then shift; fi ;;
  *) exec "$@" ;;
esac

# MySQL and Redis may still be booting: wait for them instead of crash-looping.
if [ "${WAIT_FOR_SERVICES:-1}" = "1" ]; then
  python manage.py wait_for_services --timeout "${WAIT_FOR_SERVICES_TIMEOUT:-60}"
fi

case "$role" in
  web)
    if [ "${MIGRATE:-0}" = "1" ]; then
      python manage.py migrate --noinput
    fi
    # Prometheus multi-process mode: the directory must start empty (stale files of a
    # previous run would be summed into the counters).
    if [ -n "${PROMETHEUS_MULTIPROC_DIR:-}" ]; then
      mkdir -p "$PROMETHEUS_MULTIPROC_DIR"
      find "$PROMETHEUS_MULTIPROC_DIR" -mindepth 1 -delete
    fi
    exec gunicorn payplug.wsgi:application \
      --config /app/docker/gunicorn.conf.py \
      --bind "0.0.0.0:${PORT:-8000}" \
      --workers "${GUNICORN_WORKERS:-4}" \
      "$@"
    ;;
  worker)
    exec celery -A payplug worker \
      --loglevel "${CELERY_LOG_LEVEL:-info}" \
      --concurrency "${CELERY_CONCURRENCY:-4}" \
      "$@"
    ;;
  beat)
    # The schedule file lives in a writable directory (a volume in compose), not in /app.
    exec celery -A payplug beat \
      --loglevel "${CELERY_LOG_LEVEL:-info}" \
      --schedule "${CELERY_BEAT_SCHEDULE_FILE:-/var/lib/payplug/beat/celerybeat-schedule}" \
      "$@"
    ;;
esac
