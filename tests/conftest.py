"""Shared fixtures. Each local server the tests talk to lives in tests/support/."""

from tests.support.fixtures import *  # noqa: F401,F403
