"""``python -m sekoia_async ...`` runs the command line."""

from .cli import main

if __name__ == "__main__":
    main()
