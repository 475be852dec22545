#!/usr/bin/env python3
"""index_bench.py - what the store's per-line rows cost as the store grows,
for the schema the mover writes today and for two alternatives.

Each line routed to a channel is, today, an events row (id TEXT PRIMARY
KEY: the random content-hash id) and a jobs row under UNIQUE(event_id,
channel, recipient) and jobs_due.  Both unique indexes are keyed by the
random id, so once they outgrow the page cache every line dirties a leaf
of each, spread over the whole index.  The variants:

  today      the store's schema version 6 (store.c before version 7), as
             the mover wrote it
  rowid      jobs refer to the event by its rowid (an append): only the
             events id index stays random (the dedup of a re-sent line)
  hash64     jobs by rowid, and the dedup index on the id's first 8 bytes as
             an integer (its own column) instead of the 32-character text:
             four times as many entries per page (store.c's version 7)
  noindex    no index on the id at all (an upper bound: no dedup)

Rows are inserted in transactions of BATCH (the mover's MOVE_BATCH, 4096),
WAL, synchronous=NORMAL, a 16 MiB cache (the mover's), with a second
connection committing a small write between transactions (the workers'
claims: that empties the writer's cache, as in the daemon).  Prints, per
variant, the us per row over the run and over each tenth of it, and the
database's size.

  bench/store_proto/index_bench.py [ROWS=600000] [DIR=/var/tmp/index_bench]

Not part of make check; python3's sqlite3 module adds a constant few us
per row to every variant alike: compare the variants, not the absolute
figures with the daemon's.
"""
import os
import shutil
import sqlite3
import sys
import time

ROWS = int(sys.argv[1]) if len(sys.argv) > 1 else 600000
DIR = sys.argv[2] if len(sys.argv) > 2 else "/var/tmp/index_bench"
BATCH = 4096
JSON = '{"type":"syslog","severity":"high","title":"' + "x" * 700 + '"}'


def jobs(ref, unique=True):
    """The jobs table (its columns the mover fills) referring to the event
    by ref ("event_id TEXT" or "event_row INTEGER"), with its indexes."""
    name = ref.split()[0]
    return ("CREATE TABLE jobs (id INTEGER PRIMARY KEY AUTOINCREMENT, %s NOT NULL,"
            " channel TEXT NOT NULL, state INTEGER NOT NULL DEFAULT 0,"
            " created_at INTEGER NOT NULL, next_at INTEGER NOT NULL,"
            " updated_at INTEGER NOT NULL, recipient TEXT NOT NULL DEFAULT ''%s);"
            " CREATE INDEX jobs_due ON jobs(state, next_at);"
            % (ref, ", UNIQUE(%s, channel, recipient)" % name if unique else ""))


SCHEMAS = {
    "today": "CREATE TABLE events (id TEXT PRIMARY KEY, json TEXT NOT NULL, received_at INTEGER);"
             + jobs("event_id TEXT"),
    "rowid": "CREATE TABLE events (id TEXT PRIMARY KEY, json TEXT NOT NULL, received_at INTEGER);"
             + jobs("event_row INTEGER"),
    "hash64": "CREATE TABLE events (id TEXT NOT NULL, idh INTEGER NOT NULL, json TEXT NOT NULL,"
              " received_at INTEGER); CREATE INDEX events_idh ON events(idh);"
              + jobs("event_row INTEGER"),
    "noindex": "CREATE TABLE events (id TEXT, json TEXT NOT NULL, received_at INTEGER);"
               + jobs("event_row INTEGER", unique=False),
}

JOB_BY_ROW = ("INSERT INTO jobs(event_row, channel, created_at, next_at, updated_at)"
              " VALUES (?, 'file', ?, ?, ?)")


def run(variant):
    path = os.path.join(DIR, variant + ".db")
    for sfx in ("", "-wal", "-shm"):
        if os.path.exists(path + sfx):
            os.unlink(path + sfx)
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=NORMAL")
    db.execute("PRAGMA cache_size=-16384")
    db.execute("PRAGMA wal_autocheckpoint=8000")
    db.executescript(SCHEMAS[variant])
    db.execute("CREATE TABLE tick (n INTEGER)")
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("PRAGMA synchronous=NORMAL")
    ids = [os.urandom(16).hex() for _ in range(ROWS)]
    tenth = max(ROWS // 10, BATCH)
    marks, t_mark, n_mark = [], time.perf_counter(), 0
    t0 = t_mark
    i = 0
    while i < ROWS:
        db.execute("BEGIN IMMEDIATE")
        for k in range(i, min(i + BATCH, ROWS)):
            if variant == "today":
                db.execute("INSERT OR IGNORE INTO events VALUES (?, ?, ?)", (ids[k], JSON, k))
                db.execute("INSERT OR IGNORE INTO jobs(event_id, channel, created_at, next_at,"
                           " updated_at) VALUES (?, 'file', ?, ?, ?)", (ids[k], k, k, k))
            elif variant == "hash64":
                h = int(ids[k][:16], 16) - (1 << 63)
                if db.execute("SELECT 1 FROM events WHERE idh = ? AND id = ?",
                              (h, ids[k])).fetchone():
                    continue                               # the dedup: seen
                cur = db.execute("INSERT INTO events VALUES (?, ?, ?, ?)", (ids[k], h, JSON, k))
                db.execute(JOB_BY_ROW, (cur.lastrowid, k, k, k))
            else:
                cur = db.execute("INSERT INTO events VALUES (?, ?, ?)", (ids[k], JSON, k))
                db.execute(JOB_BY_ROW, (cur.lastrowid, k, k, k))
        db.execute("COMMIT")
        other.execute("INSERT INTO tick VALUES (1)")   # another connection's commit
        i = min(i + BATCH, ROWS)
        if i - n_mark >= tenth or i == ROWS:
            now = time.perf_counter()
            marks.append((now - t_mark) * 1e6 / (i - n_mark))
            t_mark, n_mark = now, i
    total = time.perf_counter() - t0
    size = os.path.getsize(path)
    db.close()
    other.close()
    print("%-8s %7d rows %6.1f s  %5.1f us/row overall  by tenth: %s  db %d MB" % (
        variant, ROWS, total, total * 1e6 / ROWS, " ".join("%.0f" % m for m in marks),
        size >> 20))
    sys.stdout.flush()


def main():
    os.makedirs(DIR, exist_ok=True)
    for v in sys.argv[3:] or ("today", "rowid", "hash64", "noindex"):
        run(v)
    shutil.rmtree(DIR, ignore_errors=True)


if __name__ == "__main__":
    main()
