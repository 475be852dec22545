#!/usr/bin/env python3
"""sink.py - a local HTTP(S) sink for alertbridge tests that fails on demand.

Listens on 127.0.0.1 (or ::1) only.  Every request is recorded as one JSON
line in --record FILE: time, method, path, headers ([name, value] pairs),
client address and port, and the body (as "body" when it is UTF-8 text,
else "body_b64").  The answer is 200 "ok" unless the control file
(--control FILE, re-read on every request) says otherwise, e.g.

  {"mode": "status", "status": 429, "retry_after": "7", "body": "slow down",
   "count": 2}
  {"mode": "slow", "delay": 3}                    answer late
  {"mode": "reset"}                               close without an answer (RST)
  {"mode": "redirect", "status": 302, "redirect": "http://127.0.0.1:1/x"}
  {"mode": "ok", "body_size": 200000}             a large 200 answer
  {"mode": "ok", "status": 202, "body": "accepted"}

Keys: mode (ok | status | slow | reset | redirect), status, body,
content_type, retry_after (sent as the Retry-After header), headers (extra
{name: value}), delay (seconds, any mode), body_size (answer that many
bytes of "x"), count (how many requests get this answer before the sink
goes back to 200 "ok"; absent = every request), until (a Unix time: from
then on the sink answers 200 "ok", a failure window that ends by itself).
The count restarts whenever the control file's content changes.

Usage: sink.py [--port N] [--port-file F] [--record F] [--control F]
               [--bind 127.0.0.1|::1] [--tls-cert PEM --tls-key PEM]
Port 0 (the default) picks a free port; it is written to --port-file
(atomically) once the sink is listening.  Stops on SIGTERM or SIGINT.
"""
import argparse
import base64
import ipaddress
import socket
import ssl
import struct
import sys
import time

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
import standin  # noqa: E402  (tests/lib/standin.py, next to this script)

MAX_BODY = 16 * 1024 * 1024


class State(standin.State):
    def next_action(self):
        """The control settings for this request, or {} for the default."""
        if not self.control_path:
            return {}
        text = standin.read_text(self.control_path)
        with self.lock:
            try:
                ctl = self.settings(text)
            except ValueError as e:
                sys.stderr.write("sink: bad control file: %s\n" % e)
                return {"mode": "status", "status": 599, "body": "bad control file"}
            until = ctl.get("until")
            if until is not None and time.time() >= float(until):
                return {}
            return ctl if self.count("answer", ctl.get("count")) else {}


class Handler(standin.Handler):
    server_version = "alertbridge-sink/1"

    def setup(self):
        super().setup()
        try:  # answers go out in two writes; do not wait for delayed ACKs
            self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        except OSError:
            pass

    def _body(self):
        n = int(self.headers.get("Content-Length") or 0)
        if n < 0 or n > MAX_BODY:
            raise ValueError("bad Content-Length")
        data = b""
        while len(data) < n:
            chunk = self.rfile.read(n - len(data))
            if not chunk:
                break
            data += chunk
        return data

    def _handle(self):
        state = self.server.state
        body = self._body()
        entry = {
            "time": time.time(),
            "method": self.command,
            "path": self.path,
            "headers": [[k, v] for k, v in self.headers.items()],
            "client": self.client_address[0],
            "client_port": self.client_address[1],
        }
        try:
            entry["body"] = body.decode("utf-8")
        except UnicodeDecodeError:
            entry["body_b64"] = base64.b64encode(body).decode("ascii")
        ctl = state.next_action()
        entry["answer"] = ctl.get("mode", "ok")
        state.log(entry)

        mode = ctl.get("mode", "ok")
        delay = float(ctl.get("delay", 0) or 0)
        if mode == "slow" and not delay:
            delay = 5.0
        if delay > 0:
            time.sleep(delay)
        if mode == "reset":
            # close with RST, no answer at all
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                       struct.pack("ii", 1, 0))
            self.close_connection = True
            self.connection.close()
            return
        status = int(ctl.get("status", 200))
        headers = dict(ctl.get("headers") or {})
        if mode == "redirect":
            if "status" not in ctl:
                status = 302
            headers["Location"] = ctl.get("redirect", "http://127.0.0.1:1/")
        if ctl.get("retry_after") is not None:
            headers["Retry-After"] = str(ctl["retry_after"])
        if "body_size" in ctl:
            out = b"x" * int(ctl["body_size"])
        else:
            out = str(ctl.get("body", "ok")).encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", ctl.get("content_type", "text/plain"))
        self.send_header("Content-Length", str(len(out)))
        for k, v in headers.items():
            self.send_header(k, v)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(out)

    def _safe(self):
        try:
            self._handle()
        except (BrokenPipeError, ConnectionResetError, ssl.SSLError, OSError):
            self.close_connection = True
        except ValueError as e:
            self.close_connection = True
            try:
                self.send_error(400, str(e))
            except OSError:
                pass

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = _safe


class Server(standin.Server):
    def handle_error(self, request, client_address):  # quiet on client aborts
        pass


def main():
    ap = argparse.ArgumentParser(description="local HTTP(S) sink for tests")
    ap.add_argument("--bind", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--port-file")
    ap.add_argument("--record")
    ap.add_argument("--control")
    ap.add_argument("--tls-cert")
    ap.add_argument("--tls-key")
    a = ap.parse_args()

    if not ipaddress.ip_address(a.bind).is_loopback:
        ap.error("--bind must be a loopback address (127.0.0.1 or ::1)")
    if bool(a.tls_cert) != bool(a.tls_key):
        ap.error("--tls-cert and --tls-key go together")

    class Srv(Server):
        address_family = socket.AF_INET6 if ":" in a.bind else socket.AF_INET

    srv = Srv((a.bind, a.port), Handler)
    srv.state = State(a.record, a.control)
    if a.tls_cert:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(a.tls_cert, a.tls_key)
        srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
    return standin.serve(srv, a.port_file)


if __name__ == "__main__":
    sys.exit(main())
