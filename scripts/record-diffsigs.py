#!/usr/bin/env python3
"""Record what bitbake's own bb.siggen.compare_sigfiles and worddiff_str say about the siginfo
fixtures, into test/fixtures/siginfo/bitbake-diffsigs.json, for test/siginfo.test.ts to compare
`analyze` with (CI has no bitbake).

Usage:
    scripts/record-diffsigs.py BITBAKE_CHECKOUT

Dependencies are found by unihash among the fixtures, like isar-sstate analyze's recursecb,
which indents the nested lines by four spaces. Needs the zstd CLI.
"""

import glob
import json
import os
import subprocess
import sys

FIXTURES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "test", "fixtures", "siginfo")
PAIRS = [("hello-configure-a", "hello-configure-b"), ("zlib-populate-sysroot-a", "zlib-populate-sysroot-b")]
# Values with spaces, diffed word by word.
WORD_DIFFS = [
    ("--disable-static ${DEBUG_OPTS}", "--enable-static ${HARDENING_OPTS}"),
    ("a b c", "a c"),
    ("a  b", "a b"),
    ("x y z w", "w x y z"),
    ("-O2 -pipe -g", "-O2 -g -feliminate-unused-debug-types"),
    ("one", "one two"),
    ("a b a b", "b a b a"),
]


def main():
    bitbake = sys.argv[1]
    sys.path.insert(0, os.path.join(bitbake, "lib"))
    import bb.compress.zstd
    import bb.siggen

    by_hash = {}
    for path in glob.glob(os.path.join(FIXTURES, "*.siginfo")):
        try:
            with bb.compress.zstd.open(path, "rt", encoding="utf-8", num_threads=1) as f:
                data = json.load(f)
        except (OSError, ValueError, EOFError):
            continue  # the legacy pickle fixture
        if data.get("unihash"):
            by_hash[data["unihash"]] = path

    def recursecb(key, hash_a, hash_b):
        if hash_a not in by_hash or hash_b not in by_hash:
            return ["could not find %s %s %s" % (key, hash_a, hash_b)]
        lines = []
        for change in bb.siggen.compare_sigfiles(by_hash[hash_a], by_hash[hash_b], recursecb):
            lines.extend("    " + line for line in change.splitlines())
        return lines

    def compared(a, b, recurse):
        out = bb.siggen.compare_sigfiles(os.path.join(FIXTURES, a + ".siginfo"), os.path.join(FIXTURES, b + ".siginfo"), recursecb if recurse else None)
        return [line for change in out for line in change.splitlines()]

    revision = subprocess.run(["git", "-C", bitbake, "log", "-1", "--format=%H %cs"], capture_output=True, text=True, check=True).stdout.strip()
    recording = {
        "tool": "bitbake %s lib/bb/siggen.py" % revision,
        "compare_sigfiles": [
            {"a": a, "b": b, "recursive": recurse, "lines": compared(a, b, recurse)} for a, b in PAIRS for recurse in (True, False)
        ],
        "worddiff_str": [{"before": before, "after": after, "text": bb.siggen.worddiff_str(before, after)} for before, after in WORD_DIFFS],
    }
    with open(os.path.join(FIXTURES, "bitbake-diffsigs.json"), "w") as f:
        json.dump(recording, f, indent=2)
        f.write("\n")


if __name__ == "__main__":
    main()
