import sys

from datamed.cli import main

if __name__ == "__main__":  # also imported by spawned worker processes (the build's risk model)
    sys.exit(main())
