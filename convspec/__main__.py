import sys

from convspec._frontends.cli import main

sys.exit(main())
