import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
MUTANTS = os.path.join(HERE, "mutants")
TRUSTED = os.path.join(HERE, "trusted")
sys.path.insert(0, HERE)
