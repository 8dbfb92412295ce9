#!/usr/bin/env python3
"""Independent reference verdicts for the end-to-end tests (issue 16).

Computes, without any of robustflow's classes, which (image, eps) pairs interval bound propagation
("box") certifies for a fixed model (mlp-json/1) on the first N MNIST test images, and writes them
as JSON for the Java tests to compare against.

What is computed: the verdict that *exact* interval arithmetic gives on the exact input box
[max(0, p/255 - eps), min(1, p/255 + eps)] (p the 8-bit pixel, eps the double eps):
  MISCLASSIFIED  the clean image's predicted class (argmax of the logits, float64) is not the label
  CERTIFIED      for every j != label: lower(logit_label) - upper(logit_j) > 0 in exact IBP
  UNKNOWN        otherwise.
How: float64 numpy in the lower/upper form (positive weights take lower to lower), propagated
twice: an outer chain widened and an inner chain narrowed after every layer by a rigorous bound of
the rounding error (gamma_{n+2} (|W| max(|lo|,|hi|) + |b|), doubled, Higham eq. 3.5), so the exact
IBP bounds lie between the two chains. A pair whose sign the chains leave open is recomputed in
exact rational arithmetic (fractions.Fraction). The script also records the smallest certified
margin: robustflow's box bounds contain exact IBP and are looser by far less than that (its input
box is widened by 2^-48 and its bounds by ~1e-13 relative), so it must certify exactly these pairs.

Usage (numpy >= 1.20, Python >= 3.8; takes a few seconds):
  python3 tools/reference_verdicts.py \
      --model src/test/resources/reference/mlp-784-20-20-10.json \
      --images data/mnist/t10k-images-idx3-ubyte.gz --labels data/mnist/t10k-labels-idx1-ubyte.gz \
      --count 1000 --out src/test/resources/reference/box-verdicts.json
"""
import argparse
import gzip
import hashlib
import json
import struct
import sys
from fractions import Fraction

import numpy as np

# The grid of the end-to-end tests: VerificationJobITCase, CertifyCommandTest and the Kafka ITCase's
# 0.001:0.01:10, plus larger eps where a small model still certifies.
EPS = [0.0005, 0.001, 0.002, 0.003, 0.004, 0.005, 0.006, 0.007, 0.008, 0.009, 0.01, 0.02, 0.03]

U = 2.0 ** -53


def read_idx(path):
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rb") as f:
        data = f.read()
    magic, = struct.unpack(">I", data[:4])
    dims = magic & 0xFF
    shape = struct.unpack(">" + "I" * dims, data[4:4 + 4 * dims])
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * dims).reshape(shape)


def read_model(path):
    with open(path, "rb") as f:
        raw = f.read()
    m = json.loads(raw)
    if m.get("format") != "mlp-json/1":
        sys.exit("not mlp-json/1: " + path)
    layers = []
    for layer in m["layers"]:
        w = np.array(layer["weight"], dtype=np.float64)
        b = np.array(layer["bias"], dtype=np.float64)
        assert w.shape == (layer["out"], layer["in"]) and b.shape == (layer["out"],)
        layers.append((w, b, layer["activation"]))
    return layers, hashlib.sha256(raw).hexdigest()


def affine_bounds(w, b, lo, hi, direction):
    """IBP of W h + b over rows [lo, hi] (shape [rows, in]); direction -1 widens (outer), +1
    narrows (inner) by a rigorous bound of the rounding error."""
    wp = np.maximum(w, 0.0)
    wn = np.minimum(w, 0.0)
    lower = lo @ wp.T + hi @ wn.T + b
    upper = hi @ wp.T + lo @ wn.T + b
    n = w.shape[1]
    mag = np.maximum(np.abs(lo), np.abs(hi)) @ np.abs(w).T + np.abs(b)
    err = 2.0 * (n + 2) * U / (1 - (n + 2) * U) * mag + 1e-300
    return lower + direction * err, upper - direction * err


def ibp_chain(layers, lo, hi, direction):
    for k, (w, b, act) in enumerate(layers):
        lo, hi = affine_bounds(w, b, lo, hi, direction)
        if act == "relu":
            lo, hi = np.maximum(lo, 0.0), np.maximum(hi, 0.0)
    return lo, hi


def exact_box(pixels, eps):
    e = Fraction(eps)
    lo = [max(Fraction(0), Fraction(int(p), 255) - e) for p in pixels]
    hi = [min(Fraction(1), Fraction(int(p), 255) + e) for p in pixels]
    return lo, hi


def exact_margins(layers, pixels, eps, label):
    """Exact IBP margins lower(logit_label) - upper(logit_j), in rationals."""
    lo, hi = exact_box(pixels, eps)
    for w, b, act in layers:
        wf = [[Fraction(float(v)) for v in row] for row in w]
        nlo, nhi = [], []
        for o, row in enumerate(wf):
            a = Fraction(float(b[o]))
            c = a
            for i, v in enumerate(row):
                if v > 0:
                    a += v * lo[i]
                    c += v * hi[i]
                elif v < 0:
                    a += v * hi[i]
                    c += v * lo[i]
            nlo.append(a)
            nhi.append(c)
        if act == "relu":
            nlo = [max(Fraction(0), v) for v in nlo]
            nhi = [max(Fraction(0), v) for v in nhi]
        lo, hi = nlo, nhi
    return [lo[label] - hi[j] for j in range(len(lo)) if j != label]


def crown_margins(layers, lo, hi, label):
    """CROWN / DeepPoly for one row, as robustflow's CrownPropagator defines it (independently
    written, float64, no rounding guard): hidden bounds after the first layer are back-substituted
    bounds intersected with interval bounds; ReLU [l, u] with l < 0 < u is relaxed by the chord
    (upper) and slope 1 if u > -l else 0 (lower); the margins are the best of CROWN's, the
    interval bound's, and the interval bound of the margin folded into the last layer. Returns (margins, closest): closest is the distance of any decision this
    depends on (a ReLU's l or u at 0, u + l at 0 for the slope) from flipping."""
    ws = [w for w, _, _ in layers]
    bs = [b for _, b, _ in layers]
    # Interval bounds of every layer (plain IBP).
    box = []
    l, u = lo, hi
    for w, b, act in layers:
        wp, wn = np.maximum(w, 0.0), np.minimum(w, 0.0)
        l, u = wp @ l + wn @ u + b, wp @ u + wn @ l + b
        box.append((l, u))
        l, u = np.maximum(l, 0.0), np.maximum(u, 0.0)
    pre = [box[0]]

    def lower_bound(a, c, m):
        for k in range(m, -1, -1):
            c = c + a @ bs[k]
            a = a @ ws[k]
            if k > 0:
                pl, pu = pre[k - 1]
                unstable = (pl < 0) & (pu > 0)
                active = pl >= 0
                up = np.where(unstable, pu / np.where(unstable, pu - pl, 1.0), active * 1.0)
                up_t = np.where(unstable, -up * pl, 0.0)
                low = np.where(unstable, (pu > -pl) * 1.0, active * 1.0)
                pos = a >= 0
                c = c + np.where(pos, 0.0, a * up_t).sum(axis=1)
                a = np.where(pos, a * low, a * up)
        return c + np.where(a >= 0, a * lo, a * hi).sum(axis=1)

    for i in range(1, len(layers) - 1):
        n = ws[i].shape[0]
        eye = np.eye(n)
        cl = lower_bound(eye, np.zeros(n), i)
        cu = -lower_bound(-eye, np.zeros(n), i)
        pre.append((np.maximum(cl, box[i][0]), np.minimum(cu, box[i][1])))
    classes = ws[-1].shape[0]
    others = [j for j in range(classes) if j != label]
    a = np.zeros((len(others), classes))
    for r, j in enumerate(others):
        a[r, label] = 1.0
        a[r, j] = -1.0
    crown = lower_bound(a, np.zeros(len(others)), len(layers) - 1)
    bl, bu = box[-1]
    # The margin rows folded into the last layer, bounded over the last hidden layer's box
    # (Gowal et al.'s elision): robustflow takes the best of the three.
    hl, hu = np.maximum(pre[-1][0], 0.0), np.maximum(pre[-1][1], 0.0)
    aw = a @ ws[-1]
    elided = a @ bs[-1] + np.where(aw >= 0, aw * hl, aw * hu).sum(axis=1)
    margins = np.maximum(np.maximum(crown, bl[label] - bu[others]), elided)
    closest = min(float(np.min(np.abs(np.concatenate([pl, pu, pu + pl])))) for pl, pu in pre)
    return margins, closest


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--model", required=True)
    ap.add_argument("--images", required=True)
    ap.add_argument("--labels", required=True)
    ap.add_argument("--count", type=int, default=1000)
    ap.add_argument("--method", choices=["box", "crown"], default="box")
    ap.add_argument("--out", required=True)
    ap.add_argument(
        "--eps",
        help="comma list of eps (default: the end-to-end tests' grid, %s)" % ",".join(map(str, EPS)),
    )
    ap.add_argument(
        "--check-exact",
        type=int,
        default=3,
        help="recompute the first K images at every eps in exact rationals and check that the "
        "float chains enclose them (default 3)",
    )
    args = ap.parse_args()
    eps_grid = [float(e) for e in args.eps.split(",")] if args.eps else EPS

    layers, model_sha = read_model(args.model)
    images = read_idx(args.images)[: args.count].reshape(args.count, -1)
    labels = read_idx(args.labels)[: args.count].astype(int)
    x = images.astype(np.float64) / 255.0

    # Clean predictions in float64; the smallest top-2 gap shows no tie could flip the argmax.
    h = x
    for w, b, act in layers:
        h = h @ w.T + b
        if act == "relu":
            h = np.maximum(h, 0.0)
    predicted = h.argmax(axis=1)
    top2 = np.sort(h, axis=1)[:, -2:]
    smallest_gap = float((top2[:, 1] - top2[:, 0]).min())
    misclassified = [int(i) for i in np.nonzero(predicted != labels)[0]]

    certified = {}
    closest = float("inf")
    exact_fallbacks = 0
    if args.method == "crown":
        closest_decision = float("inf")
        for eps in eps_grid:
            keys = []
            for i in range(args.count):
                if predicted[i] != labels[i]:
                    continue
                lo = np.maximum(0.0, x[i] - eps)
                hi = np.minimum(1.0, x[i] + eps)
                margins, decision = crown_margins(layers, lo, hi, labels[i])
                m = float(margins.min())
                closest = min(closest, abs(m))
                closest_decision = min(closest_decision, decision)
                if m > 0:
                    keys.append(i)
            certified["%.4f" % eps] = keys
            print("eps %.4f: %d certified of %d" % (eps, len(keys), args.count), file=sys.stderr)
        out_extra = {"smallestAbsMargin": closest, "smallestReluDecisionDistance": closest_decision}
        fragile = closest < 1e-6 or closest_decision < 1e-9
    else:
        for eps in eps_grid:
            lo = np.maximum(0.0, x - eps)
            hi = np.minimum(1.0, x + eps)
            # Pixel-exact boxes: widen the outer chain's input and narrow the inner one's by the
            # rounding of p/255 and of -/+ eps (each below 2^-53 for values in [0, 2]).
            # (3u at most; 8u allows for the rounding of the widening itself).
            slack = 8 * U
            olo, ohi = ibp_chain(layers, np.maximum(0.0, lo - slack), np.minimum(1.0, hi + slack), -1)
            ilo, ihi = ibp_chain(layers, lo + slack, hi - slack, +1)
            keys = []
            for i in range(args.count):
                if predicted[i] != labels[i]:
                    continue
                y = labels[i]
                others = [j for j in range(ohi.shape[1]) if j != y]
                outer = min(olo[i, y] - ohi[i, j] for j in others)
                inner = min(ilo[i, y] - ihi[i, j] for j in others)
                if i < args.check_exact:
                    exact = min(exact_margins(layers, images[i], eps, y))
                    if not (outer <= exact <= inner):
                        sys.exit("image %d eps %s: exact margin %s outside [%r, %r]"
                                 % (i, eps, float(exact), outer, inner))
                if outer > 0:
                    keys.append(i)
                    closest = min(closest, outer)
                elif inner <= 0:
                    pass
                else:
                    exact_fallbacks += 1
                    m = min(exact_margins(layers, images[i], eps, y))
                    if m > 0:
                        keys.append(i)
                        closest = min(closest, float(m))
            certified["%.4f" % eps] = keys
            print("eps %.4f: %d certified of %d" % (eps, len(keys), args.count), file=sys.stderr)
        out_extra = {"smallestCertifiedMargin": closest, "exactFallbacks": exact_fallbacks}
        fragile = closest < 1e-6

    out = {
        "generator": "tools/reference_verdicts.py --method %s (numpy %s)" % (args.method, np.__version__),
        "method": args.method,
        "model": args.model,
        "modelSha256": model_sha,
        "data": "MNIST test set, first %d images" % args.count,
        "count": args.count,
        "eps": ["%.4f" % e for e in eps_grid],
        "misclassified": misclassified,
        "certified": certified,
        "smallestTop2LogitGap": smallest_gap,
    }
    out.update(out_extra)
    with open(args.out, "w") as f:
        json.dump(out, f, indent=1)
        f.write("\n")
    if fragile or smallest_gap < 1e-9:
        sys.exit("a margin, a ReLU decision or a clean logit gap is too close to 0 for a stable "
                 "reference")


if __name__ == "__main__":
    main()
