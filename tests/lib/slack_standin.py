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
import json
import sys
import time
import urllib.parse

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
import standin  # noqa: E402  (tests/lib/standin.py, next to this script)


class State(standin.State):
    once_key = "forget"

    def __init__(self, a):
        super().__init__(a.record, a.control)
        self.a = a
        self.channels = dict(kv.split("=", 1) for kv in a.channels.split(",") if kv)
        self.users = dict(kv.split("=", 1) for kv in a.users.split(",") if kv)
        self.messages = {}          # channel id -> {ts: message}
        self.seq = 0

    def once(self):                 # forget: every message so far is gone
        self.messages = {}


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


class Handler(standin.Handler):
    def do_GET(self):
        st = self.server.state
        if self.path == "/_state":
            with st.lock:
                self.answer(200, st.messages)
        else:
            self.answer(404, {"ok": False, "error": "unknown_method"})

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
        self.answer(status, res, headers)
        atts = args.get("attachments") if isinstance(args, dict) else None
        st.log({"time": time.time(), "method": method, "status": status,
                "ok": res.get("ok"), "error": res.get("error", ""),
                "channel": res.get("channel", args.get("channel", "")),
                "ts": res.get("ts", args.get("ts", "")), "thread_ts": args.get("thread_ts", ""),
                "text": args.get("text", ""),
                "colors": [a.get("color") for a in atts] if isinstance(atts, list) else []})


def main():
    ap = standin.arguments(__doc__, record_required=True)
    ap.add_argument("--token", required=True)
    ap.add_argument("--channels", default="")
    ap.add_argument("--users", default="")
    return standin.run(ap, State, Handler)


if __name__ == "__main__":
    sys.exit(main())
