#!/usr/bin/env python3
"""smtpd.py - a local SMTP server for alertbridge tests (aiosmtpd).

Listens on 127.0.0.1 (or ::1) only and records every accepted message in
--record DIR as NNNN.eml (the message exactly as received) plus NNNN.json
(written after the .eml, atomically, so its presence means "complete"):

  {"mail_from": "...", "rcpt_tos": [...], "tls": true, "auth_user": "u",
   "auth_mech": "PLAIN", "peer": "127.0.0.1", "size": N}

Options:
  --starttls            offer STARTTLS (needs --cert/--key)
  --require-starttls    refuse MAIL/RCPT/DATA before STARTTLS (530)
  --smtps               implicit TLS on connect (needs --cert/--key)
  --cert PEM --key PEM  server certificate (tests/lib/mkcert.sh makes one)
  --auth USER:PASS      offer AUTH (PLAIN and LOGIN) and require it before
                        MAIL; wrong credentials get "535 5.7.8 ..."
  --auth-mechs LIST     offer only these (comma-separated: PLAIN,LOGIN)
  --port N              port (0, the default, picks a free one)
  --port-file F         the port, written atomically once listening
  --bind ADDR           127.0.0.1 (default) or ::1
Without --starttls and --smtps the server speaks plain SMTP and offers no
STARTTLS (to test that a client requiring it gives up).  AUTH is only
offered over TLS unless --smtps (already TLS).  Auth attempts are logged on
stderr as "auth USER MECH ok|failed" (the password never).  Stops on
SIGTERM or SIGINT.
"""
import argparse
import asyncio
import json
import logging
import os
import signal
import ssl
import sys
import warnings

from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword

MAX_DATA = 8 * 1024 * 1024


def write_atomic(path, data):
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(data)
    os.rename(tmp, path)


class Recorder:
    def __init__(self, directory):
        self.dir = directory
        self.n = 0

    async def handle_DATA(self, server, session, envelope):
        self.n += 1
        base = os.path.join(self.dir, "%04d" % self.n)
        raw = envelope.original_content or envelope.content
        if isinstance(raw, str):
            raw = raw.encode("utf-8", "surrogateescape")
        tls = (getattr(server, "_tls_protocol", None) is not None or
               server.transport.get_extra_info("ssl_object") is not None)
        login = getattr(session.auth_data, "login", None)
        meta = {
            "mail_from": envelope.mail_from,
            "rcpt_tos": list(envelope.rcpt_tos),
            "tls": tls,
            "auth_user": login.decode("utf-8", "replace") if isinstance(login, bytes)
            else login,
            "auth_mech": getattr(server, "ab_auth_mech", None),
            "peer": session.peer[0] if session.peer else None,
            "size": len(raw),
        }
        write_atomic(base + ".eml", raw)
        write_atomic(base + ".json", json.dumps(meta).encode())
        return "250 2.0.0 Ok: queued as %04d" % self.n


def make_authenticator(user, password):
    def authenticator(server, session, envelope, mechanism, auth_data):
        if not isinstance(auth_data, LoginPassword):
            return AuthResult(success=False, handled=False)
        login = auth_data.login.decode("utf-8", "replace")
        good = auth_data.login == user.encode() and auth_data.password == password.encode()
        server.ab_auth_mech = mechanism
        sys.stderr.write("smtpd: auth %s %s %s\n" % (login, mechanism, "ok" if good else "failed"))
        sys.stderr.flush()
        return AuthResult(success=good, handled=False, auth_data=auth_data if good else None)
    return authenticator


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--bind", default="127.0.0.1", choices=["127.0.0.1", "::1"])
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--port-file")
    ap.add_argument("--record", required=True)
    ap.add_argument("--starttls", action="store_true")
    ap.add_argument("--require-starttls", action="store_true")
    ap.add_argument("--smtps", action="store_true")
    ap.add_argument("--cert")
    ap.add_argument("--key")
    ap.add_argument("--auth")
    ap.add_argument("--auth-mechs", default="PLAIN,LOGIN")
    a = ap.parse_args()
    # aiosmtpd warns about AUTH without STARTTLS even for implicit TLS, and
    # about its own deprecated login_data: not our concern here.
    warnings.simplefilter("ignore")
    logging.getLogger("mail.log").setLevel(logging.ERROR)

    if (a.starttls or a.smtps) and not (a.cert and a.key):
        ap.error("--starttls and --smtps need --cert and --key")
    if a.starttls and a.smtps:
        ap.error("--starttls and --smtps exclude each other")
    if a.require_starttls and not a.starttls:
        ap.error("--require-starttls needs --starttls")
    os.makedirs(a.record, exist_ok=True)

    ctx = None
    if a.cert:
        ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ctx.load_cert_chain(a.cert, a.key)

    kw = {"hostname": "smtpd.test", "ident": "alertbridge-test-smtpd",
          "data_size_limit": MAX_DATA, "timeout": 30}
    if a.starttls:
        kw["tls_context"] = ctx
        kw["require_starttls"] = a.require_starttls
    if a.auth:
        user, _, password = a.auth.partition(":")
        if not user or not password:
            ap.error("--auth USER:PASS")
        mechs = {m.strip().upper() for m in a.auth_mechs.split(",") if m.strip()}
        kw["authenticator"] = make_authenticator(user, password)
        kw["auth_required"] = True
        kw["auth_require_tls"] = not a.smtps   # smtps: the whole session is TLS
        kw["auth_exclude_mechanism"] = [m for m in ("PLAIN", "LOGIN") if m not in mechs]

    recorder = Recorder(a.record)
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)

    def factory():
        return SMTP(recorder, loop=loop, **kw)

    server = loop.run_until_complete(loop.create_server(
        factory, host=a.bind, port=a.port, ssl=ctx if a.smtps else None))
    port = server.sockets[0].getsockname()[1]
    if a.port_file:
        write_atomic(a.port_file, ("%d\n" % port).encode())
    sys.stderr.write("smtpd: listening on %s port %d (%s%s)\n" % (
        a.bind, port, "smtps" if a.smtps else "starttls" if a.starttls else "plain",
        ", auth" if a.auth else ""))
    sys.stderr.flush()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, loop.stop)
    try:
        loop.run_forever()
    finally:
        server.close()
        loop.run_until_complete(server.wait_closed())
        loop.close()


if __name__ == "__main__":
    main()
