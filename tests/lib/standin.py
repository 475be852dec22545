"""standin.py - what the local HTTP servers of the tests share (sink.py,
graph_standin.py, slack_standin.py): their state with the control file that
fails on demand and the record, a quiet HTTP/1.1 handler, and the server's
life (its port written to the port file, stopped by SIGTERM or SIGINT).

The control file is re-read on every request; the counters of the failures
it asks for restart whenever its content changes.  The record gets one JSON
line per request.

Not a script: the servers are run as scripts (python3 tests/lib/NAME.py),
so their folder comes first on sys.path and "import standin" finds this
file from any working directory.  They set sys.dont_write_bytecode first:
the tests write nothing into the source tree (no __pycache__).
"""
import argparse
import json
import os
import signal
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def read_text(path):
    """The content of the file at path, "" when there is none."""
    try:
        with open(path, encoding="utf-8") as f:
            return f.read()
    except (OSError, TypeError):
        return ""


class State:
    """The record and control files of a server.  self.lock guards the
    counters, the record and whatever a subclass keeps."""

    once_key = None   # a control key acted on once per distinct content

    def __init__(self, record, control):
        self.record = record
        self.control_path = control
        self.lock = threading.Lock()
        self.last_text = None
        self.counts = {}
        self.once_for = None

    def settings(self, text):
        """The settings in text, the control file just read (with self.lock
        held): {} when it is blank, ValueError when it is not JSON.  The
        counters restart when text is not the content seen last."""
        if text != self.last_text:
            self.last_text = text
            self.counts = {}
        return json.loads(text) if text.strip() else {}

    def count(self, key, limit):
        """Count one more use of key (with self.lock held); False, and not
        counted, once limit uses are counted (None: no limit)."""
        n = self.counts.get(key, 0)
        if limit is not None and n >= int(limit):
            return False
        self.counts[key] = n + 1
        return True

    def control(self):
        """The control settings now ({} when none or not JSON).  When they
        hold once_key for a content not seen with it before, once() runs
        (with self.lock held)."""
        text = read_text(self.control_path)
        with self.lock:
            try:
                ctl = self.settings(text)
            except ValueError:
                ctl = {}
            if self.once_key and ctl.get(self.once_key) and self.once_for != text:
                self.once_for = text
                self.once()
            return ctl

    def once(self):
        pass

    def take(self, ctl, key, method=None):
        """The failure ctl configures for key, counted; None when there is
        none, its count is used up or (given a method) it names another
        method."""
        f = ctl.get(key)
        if not f or (method is not None and f.get("method") and f["method"] != method):
            return None
        with self.lock:
            return f if self.count(key, f.get("count")) else None

    def log(self, entry):
        """Append entry to the record (if there is one) as a JSON line."""
        if not self.record:
            return
        line = json.dumps(entry, sort_keys=True) + "\n"
        with self.lock:
            with open(self.record, "a", encoding="utf-8") as f:
                f.write(line)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):  # quiet
        pass

    def answer(self, status, obj=None, headers=None):
        """Answer status with obj as JSON (no body when None) and the extra
        headers; returns status."""
        body = b"" if obj is None else json.dumps(obj).encode()
        self.send_response(status)
        if obj is not None:
            self.send_header("Content-Type", "application/json; charset=utf-8")
        for k, v in (headers or {}).items():
            self.send_header(k, str(v))
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
        return status


class Server(ThreadingHTTPServer):
    daemon_threads = True
    # the default backlog (5) drops SYNs of a burst of parallel clients and
    # their retransmission arrives a second later: keep the arrival times true
    request_queue_size = 128
    allow_reuse_address = True


def arguments(doc, record_required=False):
    """A parser of a stand-in's options (its description doc's first line)
    with those every stand-in takes: --port-file, --record, --control."""
    ap = argparse.ArgumentParser(description=doc.split("\n")[0])
    ap.add_argument("--port-file", required=True)
    ap.add_argument("--record", required=record_required)
    ap.add_argument("--control")
    return ap


def run(ap, state, handler):
    """Parse ap's options a and serve handler, with state(a) as the server's
    state, on a free port of 127.0.0.1 (see serve)."""
    a = ap.parse_args()
    srv = Server(("127.0.0.1", 0), handler)
    srv.state = state(a)
    return serve(srv, a.port_file)


def serve(srv, port_file):
    """Write srv's port to port_file (atomically, as it is listening), serve
    until SIGTERM or SIGINT, close; returns 0 (the exit status)."""
    def stop(signum, frame):
        threading.Thread(target=srv.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    if port_file:
        tmp = port_file + ".tmp"
        with open(tmp, "w", encoding="ascii") as f:
            f.write("%d\n" % srv.server_address[1])
        os.replace(tmp, port_file)
    try:
        srv.serve_forever(poll_interval=0.1)
    finally:
        srv.server_close()
    return 0
