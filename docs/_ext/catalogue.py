"""The property catalogue page, generated from the catalogue at build time.

``reference/catalogue.md`` holds a marker line; this extension replaces it with one entry per
property (name, function, concepts, the version that added or changed it, the statement, and
the docstring: the identity and its preconditions), section by section, in catalogue order.
"""

MARKER = "<!-- the catalogue, generated -->"

SECTIONS = {
    "signal": "Signals: correlate and convolve",
    "layer": "Layers: conv",
    "gradients": "Gradients: conv_grad_input and conv_grad_weight",
    "pooling": "Pooling and learned invariance",
    "unshared": "Unshared weights and biases: local_conv, tiled_conv",
    "special": "Special values: NaN and infinities",
    "integer": "Integer data",
    "quantized": "Quantised conv: requantisation to int8 and uint8",
    "precision": "Low precision: float16 and bfloat16",
    "large": "Large sizes",
    "hygiene": "Hygiene: what every function owes its callers",
}


def _prose(doc: str) -> str:
    """A docstring as Markdown: its indentation removed (``code`` reads the same in both)."""
    import inspect

    return inspect.cleandoc(doc)


def generated() -> str:
    from convspec._catalogue import CATALOGUE, VERSIONS

    by_section: dict = {}
    for p in CATALOGUE:
        by_section.setdefault(p.fn.__module__.rsplit(".", 1)[-1], []).append(p)
    unknown = set(by_section) - set(SECTIONS)
    if unknown:
        raise ValueError(f"catalogue sections without a title here: {sorted(unknown)}")
    lines = [f"{len(CATALOGUE)} properties in catalogue {VERSIONS[-1]}, in "
             f"{len(by_section)} sections.", ""]
    for section, title in SECTIONS.items():
        props = by_section.get(section, [])
        if not props:
            continue
        lines += [f"## {title}", "", f"{len(props)} properties (`convspec/_catalogue/{section}.py`).", ""]
        for p in props:
            history = f"added in {p.added}" + "".join(f"; changed in {v}: {what}" for v, what in p.changed)
            lines += [f"(property-{p.name})=", f"### `{p.name}`", "",
                      f"**{p.op}** · {', '.join(p.concepts)} · {history}", "",
                      f"*{p.statement}*", ""]
            doc = _prose(p.doc)
            if doc:
                lines += [doc, ""]
    return "\n".join(lines)


def _inject(app, docname, source):
    if docname == "reference/catalogue" and MARKER in source[0]:
        source[0] = source[0].replace(MARKER, generated())


def setup(app):
    app.connect("source-read", _inject)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
