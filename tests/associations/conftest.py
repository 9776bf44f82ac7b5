import pytest
from django.core.cache import cache


@pytest.fixture(autouse=True)
def _real_commits(transactional_db):
    """Gifts are paid on the hosted page, whose flow relies on on_commit hooks: commit for real."""
    return


@pytest.fixture(autouse=True)
def _clean_cache():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path)
