import pytest


@pytest.fixture(autouse=True)
def _real_commits(transactional_db):
    """Payment flows rely on on_commit hooks (outbox dispatch, fraud decision): commit for real."""
    return
