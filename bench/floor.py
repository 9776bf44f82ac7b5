"""The framework floor of the API benchmark: the least a Django view that writes can cost.

`POST /bench/floor` inserts one row with a raw cursor and answers a small JSON object, through
the same gunicorn, middleware stack and MySQL connection settings as the API. It exists only
when the process runs with BENCH_FLOOR=1 (see the end of payplug/urls.py), which only
`bench/run.py` sets; the table `bench_floor` is created by the benchmark in its own database.
"""

import secrets

from django.db import connection
from django.http import JsonResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

TABLE_DDL = (
    "CREATE TABLE IF NOT EXISTS bench_floor ("
    " id BIGINT AUTO_INCREMENT PRIMARY KEY,"
    " token VARCHAR(40) NOT NULL,"
    " created_at DATETIME(6) NOT NULL"
    ") ENGINE=InnoDB DEFAULT CHARSET=utf8mb4"
)


@csrf_exempt
@require_POST
def floor_view(request):
    token = "flr_" + secrets.token_hex(12)
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO bench_floor (token, created_at) VALUES (%s, %s)", [token, timezone.now().replace(tzinfo=None)]
        )
        row_id = cursor.lastrowid
    return JsonResponse({"id": row_id, "token": token}, status=201)
