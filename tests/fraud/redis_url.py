"""The fraud tests keep their Redis keys in database 12, whatever database REDIS_URL names."""

import os
import re


def fraud_redis_url() -> str:
    base = os.environ["REDIS_URL"].rstrip("/")
    return re.sub(r"/\d+$", "", base) + "/12"
