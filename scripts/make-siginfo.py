#!/usr/bin/env python3
"""Write a bitbake siginfo file from a JSON description, encoded the way bitbake's
dump_sigtask writes it.

Usage:
    scripts/make-siginfo.py DESCRIPTION.json OUTPUT.siginfo
    scripts/make-siginfo.py --pickle DESCRIPTION.json OUTPUT.siginfo

The description is the siginfo content as plain JSON. The values bitbake holds as sets
(basehash_ignore_vars or its old name basewhitelist, taskdeps, and every gendeps entry) are
given as lists and written as {"_set_object": [sorted]}; the JSON has sorted keys and
(",", ":") separators and is compressed by `zstd -c -3` through a pipe, as bb.compress.zstd
does, so the frame records no content size. Needs the zstd CLI (Debian package `zstd`).

--pickle writes the description as a protocol-4 pickle, the format used before Oct 2021.
Lists stay lists there, because a pickled set's byte order changes with PYTHONHASHSEED.

Regenerating the test fixtures:
    cd test/fixtures/siginfo
    for f in *.json; do
        [ "$f" = legacy-pickle.json ] || ../../../scripts/make-siginfo.py "$f" "${f%.json}.siginfo"
    done
    ../../../scripts/make-siginfo.py --pickle legacy-pickle.json legacy-pickle.siginfo
"""

import argparse
import json
import pickle
import shutil
import subprocess
import sys

SET_VALUED_KEYS = ("basehash_ignore_vars", "basewhitelist", "taskdeps")


class SetEncoder(json.JSONEncoder):
    def default(self, o):
        if isinstance(o, (set, frozenset)):
            return {"_set_object": sorted(o)}
        return super().default(o)


def with_sets(description):
    data = dict(description)
    for key in SET_VALUED_KEYS:
        if key in data:
            data[key] = frozenset(data[key])
    if "gendeps" in data:
        data["gendeps"] = {name: frozenset(deps) for name, deps in data["gendeps"].items()}
    return data


def zstd_compress(payload):
    if shutil.which("zstd") is None:
        sys.exit("make-siginfo: the zstd command is not installed (Debian/Ubuntu: apt-get install zstd)")
    result = subprocess.run(["zstd", "-c", "-3"], input=payload, stdout=subprocess.PIPE, check=True)
    return result.stdout


def main():
    parser = argparse.ArgumentParser(description="Write a bitbake siginfo file from a JSON description.")
    parser.add_argument("--pickle", action="store_true", help="write the legacy pickle format instead")
    parser.add_argument("description", help="JSON file holding the siginfo content")
    parser.add_argument("output", help="siginfo file to write")
    args = parser.parse_args()

    with open(args.description, encoding="utf-8") as source:
        description = json.load(source)
    if args.pickle:
        content = pickle.dumps(description, protocol=4)
    else:
        text = json.dumps(with_sets(description), sort_keys=True, separators=(",", ":"), cls=SetEncoder)
        content = zstd_compress(text.encode("utf-8"))
    with open(args.output, "wb") as target:
        target.write(content)


if __name__ == "__main__":
    main()
