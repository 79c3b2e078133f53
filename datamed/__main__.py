import sys

from datamed.cli import main

sys.exit(main())
