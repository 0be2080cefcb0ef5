"""expect: fail -- wrong, and replaces run_property, Context.expect_within and the accuracy bounds."""
import convspec._contract.accuracy
import convspec._catalogue.property
import convspec._engine.runner

from _wrong import conv, correlate  # noqa: F401


def _passed(prop, backend, **kw):
    return convspec._engine.runner.Result(getattr(backend, "name", "x"), prop.name, list(prop.concepts), "passed")


convspec._engine.runner.run_property = _passed
convspec._catalogue.property.Context.expect_within = lambda self, *a, **k: None
convspec._catalogue.property.Context.expect = lambda self, *a, **k: None
for name in dir(convspec._contract.accuracy):
    if "bound" in name or "slack" in name:
        setattr(convspec._contract.accuracy, name, lambda *a, **k: float("inf"))
