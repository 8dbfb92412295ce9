#!/usr/bin/env python3
"""Compares robustflow's box verdicts with tools/reference_verdicts.py's, pair by pair.

The reference is computed without any of robustflow's classes (numpy, rigorous rounding bounds,
exact rationals where those leave a sign open) from the model's mlp-json/1 export; robustflow's box
bounds are sound and looser than exact IBP by far less than any margin the reference certifies, so
both must certify exactly the same (image, eps) pairs.

Usage:
  ./robustflow model export --model robust --out robust.json
  ./robustflow certify --model robust --method box --no-attack --verdicts box.csv
  python3 tools/reference_verdicts.py --model robust.json --count 10000 --eps 0.01,0.02,...,0.1 \\
      --images data/mnist/t10k-images-idx3-ubyte.gz --labels data/mnist/t10k-labels-idx1-ubyte.gz \\
      --out reference.json
  python3 tools/compare_box_verdicts.py --reference reference.json --verdicts box.csv
"""
import argparse
import csv
import sys


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--reference", required=True, help="JSON of tools/reference_verdicts.py --method box")
    ap.add_argument("--verdicts", required=True, help="CSV of certify --verdicts")
    args = ap.parse_args()
    import json

    with open(args.reference) as f:
        ref = json.load(f)
    count = ref["count"]
    ours = {}
    with open(args.verdicts) as f:
        for row in csv.DictReader(f):
            if int(row["index"]) < count and row["eps"] in ref["certified"] and row["verdict"] == "CERTIFIED":
                ours.setdefault(row["eps"], set()).add(int(row["index"]))
    mismatches = 0
    print("%8s %12s %12s %s" % ("eps", "reference", "robustflow", "differing pairs"))
    for eps in ref["eps"]:
        theirs = set(ref["certified"][eps])
        mine = ours.get(eps, set())
        diff = sorted(theirs ^ mine)
        mismatches += len(diff)
        print("%8s %12d %12d %d%s" % (eps, len(theirs), len(mine), len(diff), (" e.g. %s" % diff[:5]) if diff else ""))
    print("agree on every pair" if mismatches == 0 else "%d pairs differ" % mismatches)
    sys.exit(1 if mismatches else 0)


if __name__ == "__main__":
    main()
