"""expect: fail -- wrong, and replaces run_property, Context.expect_within and the accuracy bounds."""
import convspec.accuracy
import convspec.property
import convspec.runner

from _wrong import conv, correlate  # noqa: F401


def _passed(prop, backend, **kw):
    return convspec.runner.Result(getattr(backend, "name", "x"), prop.name, list(prop.concepts), "passed")


convspec.runner.run_property = _passed
convspec.property.Context.expect_within = lambda self, *a, **k: None
convspec.property.Context.expect = lambda self, *a, **k: None
for name in dir(convspec.accuracy):
    if "bound" in name or "slack" in name:
        setattr(convspec.accuracy, name, lambda *a, **k: float("inf"))
