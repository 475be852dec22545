#!/usr/bin/env python3
"""slack_standin.py - a local stand-in for the Slack Web API methods the
slack channel's app mode calls, checking arguments as Slack does.

  POST /api/chat.postMessage   channel (an id, a name with or without "#",
                               or a user id: a direct message), text and/or
                               blocks/attachments, thread_ts (an existing
                               message of that channel)
  POST /api/chat.update        channel, ts (an existing message), text
                               and/or blocks/attachments
  POST /api/users.lookupByEmail  email (form or query arguments only, as
                               Slack's read methods take; JSON is ignored)
  GET  /_state                 the messages, for the tests

Every call needs "Authorization: Bearer TOKEN" (not_authed / invalid_auth).
Answers are HTTP 200 with {"ok": false, "error": ...} on argument errors,
as Slack's are: channel_not_found, no_text, msg_too_long (text over 40,000
characters), invalid_blocks (more than 50 blocks, a header over 150
characters, a section over 3,000, more than 10 fields or one over 2,000),
thread_not_found, message_not_found, users_not_found, invalid_arguments.
JSON bodies need Content-Type application/json (a missing charset is a
warning in response_metadata, as Slack's).

The control file (--control, re-read on every call) fails on demand:
  {"ratelimited": {"count": 1, "retry_after": 1}}   HTTP 429 + Retry-After
  {"fail": {"method": "chat.update", "error": "message_not_found", "count": 1}}
  {"forget": true}          every message so far is gone (deleted in Slack)
Every call is recorded as a JSON line in --record: time, method, status,
ok, error, channel, ts, thread_ts, text and the attachments' colors.

Usage: slack_standin.py --port-file F --record F --control F --token T
       --channels security=C0SEC,... --users a@b.c=U0ABC,...
"""
import argparse
import json
import os
import signal
import sys
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class State:
    def __init__(self, a):
        self.a = a
        self.lock = threading.Lock()
        self.channels = dict(kv.split("=", 1) for kv in a.channels.split(",") if kv)
        self.users = dict(kv.split("=", 1) for kv in a.users.split(",") if kv)
        self.messages = {}          # channel id -> {ts: message}
        self.seq = 0
        self.last_text = None
        self.counts = {}
        self.forgot_for = None

    def control(self):
        try:
            with open(self.a.control, encoding="utf-8") as f:
                text = f.read()
        except (OSError, TypeError):
            text = ""
        with self.lock:
            if text != self.last_text:
                self.last_text = text
                self.counts = {}
            try:
                ctl = json.loads(text) if text.strip() else {}
            except ValueError:
                ctl = {}
            if ctl.get("forget") and self.forgot_for != text:
                self.forgot_for = text
                self.messages = {}
            return ctl

    def take(self, ctl, key, method):
        f = ctl.get(key)
        if not f or (f.get("method") and f["method"] != method):
            return None
        with self.lock:
            n = self.counts.get(key, 0)
            if f.get("count") is not None and n >= int(f["count"]):
                return None
            self.counts[key] = n + 1
        return f

    def log(self, entry):
        with self.lock:
            with open(self.a.record, "a", encoding="utf-8") as f:
                f.write(json.dumps(entry, sort_keys=True) + "\n")


def block_error(blocks):
    if not isinstance(blocks, list) or len(blocks) > 50:
        return "invalid_blocks"
    for b in blocks:
        t = b.get("type")
        if t == "header" and len(b.get("text", {}).get("text", "")) > 150:
            return "invalid_blocks"
        if t == "section":
            if len(b.get("text", {}).get("text", "")) > 3000:
                return "invalid_blocks"
            fields = b.get("fields", [])
            if len(fields) > 10 or any(len(f.get("text", "")) > 2000 for f in fields):
                return "invalid_blocks"
            if not b.get("text") and not fields:
                return "invalid_blocks"
    return None


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        pass

    def reply(self, status, obj, headers=None):
        body = json.dumps(obj).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        for k, v in (headers or {}).items():
            self.send_header(k, str(v))
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        st = self.server.state
        if self.path == "/_state":
            with st.lock:
                self.reply(200, st.messages)
        else:
            self.reply(404, {"ok": False, "error": "unknown_method"})

    def do_POST(self):
        st = self.server.state
        n = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(n) if 0 < n < 4 * 1024 * 1024 else b""
        parts = urllib.parse.urlsplit(self.path)
        method = parts.path[len("/api/"):] if parts.path.startswith("/api/") else ""
        ctype = self.headers.get("Content-Type", "")
        args, warnings = {}, []
        if ctype.startswith("application/json"):
            if "charset" not in ctype:
                warnings.append("missing_charset")
            try:
                args = json.loads(raw or b"{}")
            except ValueError:
                return self.done(st, method, {"ok": False, "error": "invalid_json"}, args)
            if method == "users.lookupByEmail":
                args = {}   # read methods take form or query arguments only
        else:
            args = dict(urllib.parse.parse_qsl(raw.decode("utf-8", "replace")))
        args.update(dict(urllib.parse.parse_qsl(parts.query)))
        auth = self.headers.get("Authorization", "")
        if not auth.startswith("Bearer "):
            return self.done(st, method, {"ok": False, "error": "not_authed"}, args)
        if auth[7:] != st.a.token:
            return self.done(st, method, {"ok": False, "error": "invalid_auth"}, args)
        ctl = st.control()
        f = st.take(ctl, "ratelimited", method)
        if f:
            return self.done(st, method, {"ok": False, "error": "ratelimited"}, args, 429,
                             {"Retry-After": f.get("retry_after", 1)})
        f = st.take(ctl, "fail", method)
        if f:
            return self.done(st, method, {"ok": False, "error": f["error"]}, args)
        if method == "users.lookupByEmail":
            email = args.get("email")
            if not email:
                return self.done(st, method, {"ok": False, "error": "invalid_arguments"}, args)
            uid = st.users.get(email)
            if not uid:
                return self.done(st, method, {"ok": False, "error": "users_not_found"}, args)
            return self.done(st, method, {"ok": True, "user": {"id": uid, "profile": {
                "email": email}}}, args)
        if method not in ("chat.postMessage", "chat.update"):
            return self.done(st, method, {"ok": False, "error": "unknown_method"}, args)
        ch = str(args.get("channel", "")).lstrip("#")
        cid = st.channels.get(ch, ch if ch in st.channels.values() else None)
        if cid is None and ch in st.users.values():
            cid = "D" + ch[1:]          # the app's direct messages with that user
        if not cid:
            return self.done(st, method, {"ok": False, "error": "channel_not_found"}, args)
        text = args.get("text") or ""
        atts = args.get("attachments") or []
        blocks = args.get("blocks") or []
        if not text and not blocks and not atts:
            return self.done(st, method, {"ok": False, "error": "no_text"}, args)
        if len(text) > 40000:
            return self.done(st, method, {"ok": False, "error": "msg_too_long"}, args)
        for b in [blocks] + [a.get("blocks", []) for a in atts if isinstance(a, dict)]:
            e = block_error(b)
            if e:
                return self.done(st, method, {"ok": False, "error": e}, args)
        with st.lock:
            msgs = st.messages.setdefault(cid, {})
            if method == "chat.update":
                ts = str(args.get("ts", ""))
                if ts not in msgs:
                    res = {"ok": False, "error": "message_not_found"}
                else:
                    m = msgs[ts]
                    m.update({"text": text, "attachments": atts, "blocks": blocks})
                    m["updates"] = m.get("updates", 0) + 1
                    res = {"ok": True, "channel": cid, "ts": ts, "text": text}
            else:
                thread = args.get("thread_ts")
                if thread and str(thread) not in msgs:
                    res = {"ok": False, "error": "thread_not_found"}
                else:
                    st.seq += 1
                    ts = "%d.%06d" % (int(time.time()), st.seq)
                    m = {"ts": ts, "text": text, "attachments": atts, "blocks": blocks,
                         "updates": 0, "replies": []}
                    if thread:
                        msgs[str(thread)]["replies"].append({"ts": ts, "text": text})
                    else:
                        msgs[ts] = m
                    res = {"ok": True, "channel": cid, "ts": ts, "message": {"text": text}}
        if warnings and res.get("ok"):
            res["response_metadata"] = {"warnings": warnings}
        return self.done(st, method, res, args)

    def done(self, st, method, res, args, status=200, headers=None):
        self.reply(status, res, headers)
        atts = args.get("attachments") if isinstance(args, dict) else None
        st.log({"time": time.time(), "method": method, "status": status,
                "ok": res.get("ok"), "error": res.get("error", ""),
                "channel": res.get("channel", args.get("channel", "")),
                "ts": res.get("ts", args.get("ts", "")), "thread_ts": args.get("thread_ts", ""),
                "text": args.get("text", ""),
                "colors": [a.get("color") for a in atts] if isinstance(atts, list) else []})


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--port-file", required=True)
    ap.add_argument("--record", required=True)
    ap.add_argument("--control")
    ap.add_argument("--token", required=True)
    ap.add_argument("--channels", default="")
    ap.add_argument("--users", default="")
    a = ap.parse_args()
    srv = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    srv.daemon_threads = True
    srv.state = State(a)
    tmp = a.port_file + ".tmp"
    with open(tmp, "w") as f:
        f.write(str(srv.server_address[1]))
    os.replace(tmp, a.port_file)
    signal.signal(signal.SIGTERM, lambda *_: threading.Thread(target=srv.shutdown).start())
    signal.signal(signal.SIGINT, lambda *_: threading.Thread(target=srv.shutdown).start())
    srv.serve_forever()
    return 0


if __name__ == "__main__":
    sys.exit(main())
