import pytest

from fraud import features
from fraud.services import scoring


@pytest.fixture(autouse=True)
def fresh_feature_store():
    """Each test starts with an empty in-memory feature store (the embedded default)."""
    store = features.MemoryFeatureStore()
    features.set_default_store(store)
    scoring.forget_model()
    yield store
    features.set_default_store(None)
