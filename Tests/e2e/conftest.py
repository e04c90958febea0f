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


def start_setup(name, workdir):
    needed = "nginx" if name == "nginx" else "apache2"
    if shutil.which(needed) is None:
        pytest.fail(f"{needed} is not installed: `make test` installs it")
    return harness.Setup(name, workdir)


def check_error_log(setup):
    log = setup.error_log()
    for bad in ("[alert]", "[emerg]", ":error]", ":crit]"):
        assert bad not in log, log


@pytest.fixture(params=harness.SETUPS)
def tracker(request, workdir):
    """Shoal deployed one way (nginx + shoal serve, Apache mod_fcgid, ... plain CGI); every test
    that uses this runs once per setup."""
    setup = start_setup(request.param, workdir)
    yield setup
    setup.stop()
    check_error_log(setup)


@pytest.fixture(params=["nginx", "apache-fcgid"])
def client_tracker(request, workdir):
    """The setups real BitTorrent clients are run against: nginx and Apache."""
    setup = start_setup(request.param, workdir)
    yield setup
    setup.stop()
    check_error_log(setup)
