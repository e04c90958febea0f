import os
import pathlib
import shutil
import sys
import tempfile

import pytest

sys.path.insert(0, os.path.dirname(__file__))
import harness  # noqa: E402


def pytest_configure(config):
    if not os.path.exists(harness.SHOAL):
        raise pytest.UsageError(f"{harness.SHOAL} is missing: build with `swift build -c release` or set E2E_SHOAL_BIN")


@pytest.fixture
def workdir():
    # Not pytest's tmp_path: that lives under a 0700 directory, and nginx's unprivileged
    # workers must be able to reach Unix sockets in here.
    path = pathlib.Path(tempfile.mkdtemp(prefix="shoal-e2e-"))
    os.chmod(path, 0o755)
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
def tracker(workdir):
    """shoal serve (2 workers, TCP loopback) behind a real nginx; yields the nginx."""
    if shutil.which("nginx") is None:
        pytest.fail("nginx is not installed: `make test` installs it")
    shoal = harness.Shoal(workdir)
    nginx = harness.Nginx(workdir, shoal.upstream)
    nginx.shoal = shoal
    yield nginx
    nginx.stop()
    assert shoal.stop() == 0, shoal.output()
    assert "[alert]" not in nginx.error_log() and "[emerg]" not in nginx.error_log(), nginx.error_log()
