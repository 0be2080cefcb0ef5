"""The benchmark suites, as data: one problem line each (:mod:`convspec._bench.problems`), and a
quick version of each suite (small problems of the same kinds, for a first look and for CI)."""

from __future__ import annotations

#: The distinct convolution layers of ResNet-50 (v1.5: stride on the 3x3 of each first block).
RESNET50 = [
    "ic3ih224oc64oh112kh7sh2ph3",
    "ic64ih56oc64oh56kh1ph0", "ic64ih56oc64oh56kh3ph1", "ic64ih56oc256oh56kh1ph0", "ic256ih56oc64oh56kh1ph0",
    "ic256ih56oc128oh56kh1ph0", "ic128ih56oc128oh28kh3sh2ph1", "ic128ih28oc512oh28kh1ph0", "ic256ih56oc512oh28kh1sh2ph0",
    "ic512ih28oc128oh28kh1ph0", "ic128ih28oc128oh28kh3ph1",
    "ic512ih28oc256oh28kh1ph0", "ic256ih28oc256oh14kh3sh2ph1", "ic256ih14oc1024oh14kh1ph0", "ic512ih28oc1024oh14kh1sh2ph0",
    "ic1024ih14oc256oh14kh1ph0", "ic256ih14oc256oh14kh3ph1",
    "ic1024ih14oc512oh14kh1ph0", "ic512ih14oc512oh7kh3sh2ph1", "ic512ih7oc2048oh7kh1ph0", "ic1024ih14oc2048oh7kh1sh2ph0",
    "ic2048ih7oc512oh7kh1ph0", "ic512ih7oc512oh7kh3ph1",
]
#: MobileNetV2's depthwise 3x3 (groups = channels) and pointwise (1x1) layers, batch 1.
MOBILENETV2 = [
    "ic32ih112oc32kh3ph1g32", "ic32ih112oc16kh1", "ic96ih112oc96kh3sh2ph1g96", "ic96ih56oc24kh1",
    "ic144ih56oc144kh3ph1g144", "ic144ih56oc24kh1", "ic144ih56oc144kh3sh2ph1g144", "ic192ih28oc192kh3ph1g192",
    "ic192ih28oc32kh1", "ic384ih14oc384kh3ph1g384", "ic384ih14oc64kh1", "ic576ih14oc576kh3ph1g576",
    "ic576ih14oc96kh1", "ic960ih7oc960kh3ph1g960", "ic960ih7oc160kh1", "ic320ih7oc1280kh1",
]
#: Dilated and strided 1-D layers of realistic widths (a WaveNet-like stack on one second of
#: 16 kHz audio, and a strided front end).
AUDIO_1D = ["ic64iw16000oc64kw2dw1", "ic64iw16000oc64kw2dw8pw4", "ic64iw16000oc64kw3dw64pw64",
            "ic64iw16000oc64kw3dw512pw512", "ic1iw16000oc64kw80sw4pw38", "ic64iw4000oc128kw3sw2pw1"]
#: 3x3x3 layers on short clips (8-16 frames).
VIDEO_3D = ["ic3id16ih112oc64kd3kh3pd1ph1", "ic64id8ih56oc64kd3kh3pd1ph1", "ic128id8ih28oc128kd3kh3pd1ph1",
            "ic256id4ih14oc256kd3kh3pd1ph1"]
#: Single-channel signals, ``same`` mode, small to large kernels.
SIGNALS = [f"n{n}k{k}" for n in (10_000, 1_000_000) for k in (8, 64, 512, 4096)] + \
    [f"n512x512k{k}x{k}" for k in (3, 7, 15, 31, 63)] + [f"n64x64x64k{k}x{k}x{k}" for k in (3, 5, 9)]
#: Pooling as networks use it: ResNet's 3x3/2 max pool, VGG's 2x2 max, average and global pools.
POOLING = ["max_pool mb1ic64ih112kh3sh2ph1", "max_pool mb8ic64ih112kh3sh2ph1", "max_pool mb1ic128ih112kh2sh2",
           "avg_pool mb1ic256ih56kh2sh2", "avg_pool mb8ic64ih56kh3sh1ph1", "adaptive_avg_pool mb8ic2048ih7oh1",
           "max_pool mb1ic64iw16000kw4sw4", "max_pool mb1ic64id8ih56kd2kh2sd2sh2"]
#: Gradients of the ResNet-50 3x3 and 1x1 layers (batch 1 and 8).
GRADIENT_LAYERS = ["ic64ih56oc64kh3ph1", "ic128ih28oc128kh3ph1", "ic256ih14oc256kh3ph1", "ic512ih7oc512kh3ph1",
                   "ic64ih56oc256kh1", "ic256ih14oc1024kh1", "ic2048ih7oc512kh1"]


def _lines(op, descriptors, batches=(1,)):
    return [f"{op} mb{b}{d}" for b in batches for d in descriptors]


#: suite name -> (the full problem lines, the quick ones)
SUITES = {
    "resnet50": (_lines("conv", RESNET50, (1, 8)),
                 ["conv mb1ic16ih32oc16kh3ph1", "conv mb1ic32ih28oc32kh1", "conv mb2ic64ih14oc64kh3sh2ph1"]),
    "mobilenetv2": (_lines("conv", MOBILENETV2),
                    ["conv mb1ic32ih56oc32kh3ph1g32", "conv mb1ic32ih56oc16kh1", "conv mb1ic96ih28oc96kh3sh2ph1g96"]),
    "audio-1d": (_lines("conv", AUDIO_1D),
                 ["conv mb1ic16iw4000oc16kw2dw8pw4", "conv mb1ic16iw4000oc16kw3dw64pw64", "conv mb1ic1iw4000oc16kw80sw4pw38"]),
    "video-3d": (_lines("conv", VIDEO_3D), ["conv mb1ic16id4ih28oc16kd3kh3pd1ph1"]),
    "signals": ([f"correlate {s}" for s in SIGNALS],
                ["correlate n10000k64", "correlate n100000k512", "correlate n256x256k7x7", "correlate n32x32x32k3x3x3"]),
    "separable": ([f"correlate n1024x1024k{k}x{k}gauss" for k in (7, 15, 31, 63)], ["correlate n256x256k15x15gauss"]),
    "pooling": (POOLING, ["max_pool mb1ic16ih56kh3sh2ph1", "avg_pool mb1ic16ih28kh2sh2", "adaptive_avg_pool mb1ic64ih7oh1"]),
    "gradients": (_lines("conv_grad_input", GRADIENT_LAYERS, (1, 8)) + _lines("conv_grad_weight", GRADIENT_LAYERS, (1, 8)),
                  ["conv_grad_input mb1ic16ih28oc16kh3ph1", "conv_grad_weight mb1ic16ih28oc16kh3ph1",
                   "conv_grad_input mb1ic32ih14oc64kh1"]),
}


def suite_lines(name: str, quick: bool = False) -> list[str]:
    """The problem lines of a suite (``KeyError`` naming the suites for an unknown one)."""
    if name not in SUITES:
        raise KeyError(f"suite={name!r}, but should be one of {', '.join(SUITES)}")
    return SUITES[name][1 if quick else 0]
