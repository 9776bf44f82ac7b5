"""`manage.py runplatform`: runserver, plus the periodic tasks in the embedded mode (`make run`).

The same options as runserver. Without a broker (tasks run eagerly in-process), it also runs the
periodic tasks of CELERY_BEAT_SCHEDULE in a daemon thread of the serving process (payplug.scheduler):
only there, so that runserver's autoreloader (a parent process that only watches files and restarts
its child) never runs a second scheduler, and a restarted child gets a new one. With a broker
configured it runs none: Celery beat and a worker do (`make beat`, `make worker`).
"""

from django.core.management import get_commands, load_command_class

from payplug import scheduler
from payplug.queue import is_eager

# Whatever `runserver` is in this project (whitenoise's, which wraps Django's).
RunserverCommand = type(load_command_class(get_commands()["runserver"], "runserver"))


class Command(RunserverCommand):
    help = "Serve the platform (runserver) and, in the embedded mode, run its periodic tasks in-process."

    def add_arguments(self, parser):
        super().add_arguments(parser)
        parser.add_argument(
            "--no-scheduler",
            action="store_false",
            dest="scheduler",
            help="do not run the periodic tasks (payment reconciliation, notification retries, payouts...)",
        )

    def inner_run(self, *args, **options):
        # Called in the process that serves: runserver's child under the autoreloader, or this
        # process itself with --noreload.
        if options.get("scheduler", True):
            if is_eager():
                scheduler.start_in_background()
                self.stdout.write("Periodic tasks run in this process (payplug.scheduler): reconciliation every 30 s,")
                self.stdout.write("notification retries, settlement, payouts, sandbox chargebacks.")
            else:
                self.stdout.write("A broker is configured: periodic tasks run in Celery beat (make worker, make beat).")
        return super().inner_run(*args, **options)
