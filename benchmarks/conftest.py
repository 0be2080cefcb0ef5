import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))


def pytest_addoption(parser):
    parser.addoption("--resnet", action="store_true", help="benchmark every ResNet-50 layer")
    parser.addoption("--full", action="store_true", help="the whole signal and image problem sets")
