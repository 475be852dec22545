#!/usr/bin/env python3
"""tally.py - what a soak scenario delivered, from the sink's record.

  tally.py --record REC --acked ACKED --input NAME [--since T] [--json]

REC is sink.py's record (one JSON line per request); ACKED holds one tag per
line, the alerts the input acknowledged (tags look like soak-NAME-123).  A
request counts as a delivery when the sink answered it "ok"; its tag is the
first soak-... word in the body.  Prints one line per input:

  input  acknowledged  delivered  lost  duplicates  (same webhook-id)  drain

lost = acknowledged tags never delivered (must be 0); duplicates = deliveries
beyond the first of a tag (at most 1%, or --max-dups); "same webhook-id" says whether every duplicate
carried the webhook-id of its first delivery (a receiver can drop it);
drain = seconds from --since (the end of the burst or of the fault) to the
last delivery.  Also counts the failed requests (answered other than ok)
and, with --retry-after S, the requests that came sooner than S seconds
after a failed answer, not counting those already in flight when it was
answered (arriving within 0.5 s of it): a 429 storm, must be 0.  Exit 0 when nothing was
lost and duplicates are within the bound and all carry the same webhook-id,
else 1.
"""
import argparse
import json
import re
import sys

TAG = re.compile(r"soak-[a-z]+-[0-9]+")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--record", required=True)
    ap.add_argument("--acked", required=True)
    ap.add_argument("--input", required=True)
    ap.add_argument("--since", type=float, default=0.0)
    ap.add_argument("--retry-after", type=float, default=0.0)
    ap.add_argument("--max-dups", type=int, default=-1,
                    help="duplicates allowed (default: 1%% of the acknowledged)")
    ap.add_argument("--json", action="store_true")
    a = ap.parse_args()

    with open(a.acked, encoding="utf-8") as f:
        acked = {l.strip() for l in f if l.strip()}
    first_id, seen, dups, dup_same = {}, {}, 0, True
    failed, early, last_fail, last_ok = 0, 0, None, 0.0
    try:
        rec = open(a.record, encoding="utf-8")
    except OSError:
        rec = []
    for line in rec:
        try:
            r = json.loads(line)
        except ValueError:
            continue
        t = r.get("time", 0.0)
        # early: sent after the daemon had a 429 answer in hand (0.5 s on;
        # the requests already in flight arrive within milliseconds) and
        # before its Retry-After ran out
        if last_fail is not None and a.retry_after and \
                last_fail + 0.5 <= t < last_fail + a.retry_after - 0.05:
            early += 1
        if r.get("answer", "ok") != "ok":
            failed += 1
            last_fail = t
            continue
        m = TAG.search(r.get("body", ""))
        if not m:
            continue
        tag = m.group(0)
        wid = next((v for k, v in r.get("headers", []) if k.lower() == "webhook-id"), None)
        if tag in seen:
            dups += 1
            if wid != first_id[tag]:
                dup_same = False
        else:
            first_id[tag] = wid
        seen[tag] = seen.get(tag, 0) + 1
        last_ok = max(last_ok, t)
    lost = len(acked - set(seen))
    drain = max(0.0, last_ok - a.since) if a.since and seen else 0.0
    res = {"input": a.input, "acknowledged": len(acked), "delivered": len(set(seen) & acked),
           "lost": lost, "duplicates": dups, "duplicates_same_webhook_id": dup_same,
           "drain_s": round(drain, 1), "failed_requests": failed, "early_requests": early}
    if a.json:
        print(json.dumps(res))
    else:
        print("%-22s acknowledged %6d  delivered %6d  lost %d  duplicates %d%s  drain %.1f s"
              "  failed requests %d%s" % (
                  a.input, res["acknowledged"], res["delivered"], lost, dups,
                  " (same webhook-id)" if dups and dup_same else
                  " (DIFFERENT webhook-id)" if dups else "", drain, failed,
                  "  early (before Retry-After) %d" % early if a.retry_after else ""))
    allowed = a.max_dups if a.max_dups >= 0 else max(1, len(acked) // 100)
    ok = lost == 0 and dup_same and dups <= allowed and early == 0
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
