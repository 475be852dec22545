#!/usr/bin/env python3
"""corpus.py - run the tool corpus (tests/data/corpus/TOOL/) through the shipped
configuration and compare each event with the manifest (expect.tsv).

  corpus.py ALERTBRIDGE CONF CORPUS_DIR [TOOL...]

Prints TAP (one test per sample) and a closing "# score: N/M samples" line.
Manifest lines: file, profile, type, severity, title, url (TAB separated; '#'
starts a comment; url '-' = the event has no url).  A .eml sample is a mail,
a .log sample one syslog line."""
import json
import os
import subprocess
import sys


def run(ab, conf, path):
    if path.endswith(".log"):
        cmd = [ab, "-c", conf, "parse", "--syslog-file", path]
    else:
        cmd = [ab, "-c", conf, "parse", path]
    p = subprocess.run(cmd, capture_output=True, timeout=60)
    if p.returncode != 0:
        return None, "exit %d: %s" % (p.returncode, p.stderr.decode("utf-8", "replace")[:300])
    out = p.stdout.decode("utf-8", "strict").strip()
    try:
        return json.loads(out), None      # a mail: one pretty-printed event
    except ValueError:
        lines = out.splitlines()
        if len(lines) != 1:
            return None, "expected one event, got %d lines" % len(lines)
        return json.loads(lines[0]), None


def main():
    ab, conf, root = sys.argv[1:4]
    only = set(sys.argv[4:])
    samples = []
    for tool in sorted(os.listdir(root)):
        man = os.path.join(root, tool, "expect.tsv")
        if (only and tool not in only) or not os.path.isfile(man):
            continue
        with open(man, encoding="utf-8") as f:
            for n, line in enumerate(f, 1):
                line = line.rstrip("\n")
                if not line.strip() or line.startswith("#"):
                    continue
                cols = line.split("\t")
                if len(cols) != 6:
                    samples.append((tool, "%s:%d" % (man, n), None))
                    continue
                samples.append((tool, os.path.join(root, tool, cols[0]), cols))
    print("1..%d" % len(samples))
    good = 0
    for i, (tool, path, cols) in enumerate(samples, 1):
        if cols is None:
            print("not ok %d - %s: manifest line needs 6 TAB-separated columns" % (i, path))
            continue
        name = "%s/%s" % (tool, cols[0])
        try:
            ev, err = run(ab, conf, path)
        except (OSError, ValueError, subprocess.TimeoutExpired) as e:
            ev, err = None, str(e)
        if ev is None:
            print("not ok %d - %s: %s" % (i, name, err))
            continue
        fields = ev.get("fields", {})
        got = [fields.get("profile", fields.get("syslog.profile", "")), ev.get("type", ""),
               ev.get("severity", ""), ev.get("title", ""), ev.get("url") or "-"]
        bad = []
        for label, want, have in zip(("profile", "type", "severity", "title", "url"),
                                     cols[1:], got):
            if want != "*" and want != have:
                bad.append("%s: want %r, got %r" % (label, want, have))
        if bad:
            print("not ok %d - %s" % (i, name))
            for b in bad:
                print("#   " + b)
        else:
            good += 1
            print("ok %d - %s" % (i, name))
    print("# score: %d/%d samples" % (good, len(samples)))


if __name__ == "__main__":
    main()
