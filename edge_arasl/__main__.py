import sys

from edge_arasl.cli import main

sys.exit(main())
