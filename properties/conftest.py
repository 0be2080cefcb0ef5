# The parametrization comes from convspec's pytest plugin (--convspec-backend); inside this
# repository the short --backend is kept as well.


def pytest_addoption(parser):
    parser.getgroup("convspec").addoption("--backend", action="append", default=[], metavar="TARGET",
                                          help="same as --convspec-backend (this repository only)")
