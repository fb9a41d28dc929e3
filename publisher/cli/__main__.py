"""``python -m publisher.cli``: the same as the ``publisher`` command."""

from . import main

if __name__ == "__main__":  # pragma: no cover  (imported by the import test too)
    main()
