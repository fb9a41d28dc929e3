"""Shared fixtures. Each local server the tests talk to lives in tests/support/."""

import os
import tempfile

# The default database lives in the user's data directory (platformdirs honours XDG_DATA_HOME):
# point it at a throwaway folder so no test writes to the real one.
os.environ["XDG_DATA_HOME"] = tempfile.mkdtemp(prefix="publisher-tests-data-")

from tests.support.fixtures import *  # noqa: F401,F403,E402
