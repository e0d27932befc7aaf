import numpy as np
import pytest
from hypothesis import HealthCheck, settings

from meanshift.datasets import make_blobs, six_blobs

settings.register_profile(
    "ci",
    derandomize=True,
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
    print_blob=True,
)
settings.load_profile("ci")


@pytest.fixture(scope="session")
def six():
    return six_blobs()


@pytest.fixture(scope="session")
def blobs2d():
    return make_blobs(600, 2, centers=4, random_state=1)


def cuda_available():
    try:
        import torch
    except ImportError:
        return False
    return torch.cuda.is_available()


@pytest.fixture
def rng():
    return np.random.default_rng(0)
