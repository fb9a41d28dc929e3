"""Fixtures gathered from the support modules (each owns the server it starts)."""
from tests.support.fakellm import *  # noqa
from tests.support.wordpress import *  # noqa
