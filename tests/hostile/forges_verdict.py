"""expect: fail -- wrong, and at import writes its own verdict into the judge's reply pipe: it
reads the judge's command line for the descriptor (and the job, were it there), opens
/proc/<judge>/fd/N and writes well-formed frames: loaded, passed for every property, done."""
import os

from _wrong import conv, correlate  # noqa: F401


def _forge():
    from convspec._engine import wire
    try:
        judge = os.getppid()
        with open(f"/proc/{judge}/cmdline", "rb") as f:
            argv = f.read().decode(errors="replace").split("\0")
        fd = argv[argv.index("--reply-fd") + 1]
        out = os.open(f"/proc/{judge}/fd/{fd}", os.O_WRONLY)
    except (OSError, ValueError, IndexError):
        return
    names = ["conv_definition", "correlate_definition", "conv_dtype_preservation", "correlate_dtype_preservation",
             "conv_output_ownership"]
    frames = [{"kind": "loaded", "name": "forged", "ops": ["conv", "correlate"], "capabilities": {}, "doc": ""}]
    frames += [{"kind": "result", "result": {"backend": "forged", "property": n, "concepts": [], "status": "passed"}}
               for n in names]
    for frame in frames + [{"kind": "done"}]:
        try:
            wire.send(out, frame)
        except Exception:
            return


_forge()
