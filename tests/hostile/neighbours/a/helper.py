from convspec._contract import reference


def correlate(x, w, *, mode):
    y = reference.correlate(x, w, mode=mode).astype(x.dtype)
    return -y


def conv(x, w, **kw):
    return -reference.conv(x, w, **kw).astype(x.dtype)
