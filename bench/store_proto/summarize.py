#!/usr/bin/env python3
"""summarize.py - medians and spreads (min-max) of the repeated runs in
results/*.csv, as Markdown tables (the ones in README.md).

    bench/store_proto/summarize.py [RESULTS_DIR]
"""
import csv
import os
import statistics
import sys
from collections import OrderedDict

RES = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "results")


def k(v):
    v = float(v)
    return f"{v / 1000:.0f}k" if v >= 10000 else f"{v / 1000:.1f}k"


def ms(v):
    return f"{float(v) / 1000:.1f}"


def group(rows, keys):
    g = OrderedDict()
    for r in rows:
        g.setdefault(tuple(r[x] for x in keys), []).append(r)
    return g


def med(rs, col):
    vals = [float(r[col]) for r in rs if r.get(col) not in (None, "")]
    return statistics.median(vals) if vals else 0.0, (min(vals) if vals else 0.0), (max(vals) if vals else 0.0)


def fmt_rate(rs):
    m, lo, hi = med(rs, "rec_s")
    return f"{k(m)} ({k(lo)}-{k(hi)})"


def bench_table(path, keys, title, extra_cols=()):
    if not os.path.exists(path):
        return
    rows = [r for r in csv.DictReader(open(path)) if r.get("backend") and r["backend"] != "journal-read"]
    print(f"\n### {title}\n")
    head = keys + ["n", "records/s median (min-max)", "MB/s", "p50 ack ms", "p99 ack ms",
                   "avg batch", "avg fdatasync ms", "CPU us/rec", "writer CPU %"] + list(extra_cols) + ["load1"]
    print("| " + " | ".join(head) + " |")
    print("|" + "---|" * len(head))
    for key, rs in group(rows, keys).items():
        mb = med(rs, "MB_s")[0]
        p50 = med(rs, "p50_us")
        p99 = med(rs, "p99_us")
        cells = list(key) + [str(len(rs)), fmt_rate(rs), f"{mb:.0f}",
                             f"{ms(p50[0])} ({ms(p50[1])}-{ms(p50[2])})",
                             f"{ms(p99[0])} ({ms(p99[1])}-{ms(p99[2])})",
                             f"{med(rs, 'avg_batch')[0]:.0f}",
                             (f"{med(rs, 'avg_sync_us')[0] / 1000:.2f}" if med(rs, 'avg_sync_us')[0] else "-")]
        cpu = med(rs, "cpu_us_rec")
        cells.append(f"{cpu[0]:.2f}" if cpu[0] else "-")
        wc = med(rs, "writer_cpu_pct")
        cells.append(f"{wc[0]:.0f}" if wc[0] else "-")
        for c in extra_cols:
            if c == "reader rec/s":
                v = med(rs, "read_rec_s")
                cells.append(k(v[0]) if v[0] else "-")
            elif c == "reclaimed segs":
                cells.append(f"{med(rs, 'reclaimed')[0]:.0f}")
        lo, hi = med(rs, "load1")[1:]
        cells.append(f"{lo:.1f}-{hi:.1f}")
        print("| " + " | ".join(cells) + " |")


def main():
    f = os.path.join(RES, "fsync.csv")
    if os.path.exists(f):
        rows = list(csv.DictReader(open(f)))
        print("\n### fsync latency (4 KiB write + sync, 300 per mode and run)\n")
        print("| dir | mode | runs | mean us median (min-max) | p50 us | p99 us | max us | load1 |")
        print("|---|---|---|---|---|---|---|---|")
        for key, rs in group(rows, ["dir", "mode"]).items():
            m = med(rs, "mean_us")
            lo, hi = med(rs, "load1")[1:]
            print(f"| {key[0]} | {key[1]} | {len(rs)} | {m[0]:.0f} ({m[1]:.0f}-{m[2]:.0f}) | "
                  f"{med(rs, 'p50_us')[0]:.0f} | {med(rs, 'p99_us')[0]:.0f} | "
                  f"{med(rs, 'max_us')[0]:.0f} | {lo:.1f}-{hi:.1f} |")
    bench_table(os.path.join(RES, "main.csv"), ["backend", "variant", "size", "producers"],
                "Saturated, natural batching (queue 8192 records)",
                ("reader rec/s", "reclaimed segs"))
    bench_table(os.path.join(RES, "target.csv"), ["backend", "variant", "size"],
                "Offered load 300k records/s (2 producers, natural batching)", ("reader rec/s",))
    bench_table(os.path.join(RES, "policy.csv"), ["variant", "size", "rate", "delay_us"],
                "Journal batch policy (2 producers; rate 0 = saturated)", ("reader rec/s",))
    f = os.path.join(RES, "extra.csv")
    if os.path.exists(f):
        bench_table(f, ["label", "backend", "variant", "size", "producers"], "Other runs",
                    ("reader rec/s",))
        rows = [r for r in csv.DictReader(open(f)) if r.get("backend") == "journal-read"]
        if rows:
            print("\n### Cold read of a closed journal (page cache dropped per file)\n")
            print("| size | runs | records/s median (min-max) | MB/s |")
            print("|---|---|---|---|")
            for key, rs in group(rows, ["size"]).items():
                print(f"| {key[0]} | {len(rs)} | {fmt_rate(rs)} | {med(rs, 'MB_s')[0]:.0f} |")


main()
