#!/usr/bin/env python3
"""graph_standin.py - a local stand-in for Microsoft identity platform's
token endpoint and Microsoft Graph's sendMail, for the graphmail tests.

It checks every request as the services do, and answers as they answer:

  POST /{tenant}/oauth2/v2.0/token   (application/x-www-form-urlencoded)
    grant_type=client_credentials, client_id and scope
    ("https://graph.microsoft.com/.default") must match; then either
    client_secret, or client_assertion_type=urn:ietf:params:oauth:
    client-assertion-type:jwt-bearer with a client_assertion: an RS256 JWT
    whose x5t is the registered certificate's SHA-1 thumbprint, signed by
    its key, aud = this endpoint's URL, iss = sub = client_id, a jti, and
    nbf <= now < exp (at most 10 minutes ahead).  Errors as AAD gives them:
    400/401 {"error": "invalid_client" | "unauthorized_client" |
    "invalid_scope" | "invalid_request", "error_description": "AADSTS..."}.
    Success: {"token_type": "Bearer", "expires_in": N, "access_token": ...}.
  POST /v1.0/users/{user}/sendMail   (Authorization: Bearer TOKEN)
    401 InvalidAuthenticationToken for a token it did not issue, one that
    expired or was revoked; 404 ErrorInvalidUser for another mailbox than
    --mailbox; Content-Type must be text/plain and the body base64 of a MIME
    message (400 ErrorMimeContentInvalidBase64String / ErrorMimeContentInvalid
    otherwise, 413 above 4 MB) with From (the mailbox), To, Subject, Date,
    Message-ID.  Success: 202 with no body.

Every request is recorded as one JSON line in --record FILE: time, kind
(token | sendmail | other), status, and for a sendMail the MIME headers
(from, to, subject, message_id, in_reply_to, references), its parts'
content types and the text part.  The control file (--control, re-read on
every request) fails on demand:

  {"sendmail": {"status": 429, "retry_after": 2, "count": 2}}
  {"sendmail": {"status": 503, "count": 1}}
  {"token": {"error": "invalid_client", "status": 401}}
  {"expires_in": 2}              lifetime of the tokens issued from now on
  {"revoke": 1}                  every token issued so far is refused (once
                                 per distinct file content)
  {"always_401": true}           every sendMail is refused

Usage: graph_standin.py --port-file F --record F --control F --tenant T
       --client-id C --mailbox M [--secret S] [--cert PEM]
Stops on SIGTERM or SIGINT.
"""
import base64
import binascii
import email
import email.policy
import hashlib
import json
import secrets
import sys
import time
import urllib.parse

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
import standin  # noqa: E402  (tests/lib/standin.py, next to this script)

MAX_BODY = 8 * 1024 * 1024
SCOPE = "https://graph.microsoft.com/.default"
ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"


def b64url_decode(s):
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


class State(standin.State):
    once_key = "revoke"

    def __init__(self, a):
        super().__init__(a.record, a.control)
        self.a = a
        self.tokens = {}           # token -> expiry (Unix time)
        self.cert = None
        if a.cert:
            from cryptography import x509
            with open(a.cert, "rb") as f:
                self.cert = x509.load_pem_x509_certificate(f.read())

    def once(self):                # revoke: every token issued so far is refused
        self.tokens = {}


class Handler(standin.Handler):
    def do_POST(self):
        st = self.server.state
        n = int(self.headers.get("Content-Length") or 0)
        if n < 0 or n > MAX_BODY:
            self.log_and(st, "other", self.answer(413, {"error": "too large"}))
            return
        body = self.rfile.read(n)
        ctl = st.control()
        path = urllib.parse.urlsplit(self.path).path
        if path == "/%s/oauth2/v2.0/token" % st.a.tenant:
            status, extra = self.token(st, ctl, body)
            self.log_and(st, "token", status, extra)
        elif path.startswith("/v1.0/users/") and path.endswith("/sendMail"):
            status, extra = self.sendmail(st, ctl, path, body)
            self.log_and(st, "sendmail", status, extra)
        else:
            self.log_and(st, "other", self.answer(404, {"error": {"code": "NotFound",
                         "message": "no such resource: " + path}}), {"path": path})

    def log_and(self, st, kind, status, extra=None):
        e = {"time": time.time(), "kind": kind, "status": status}
        e.update(extra or {})
        st.log(e)

    def aad_error(self, status, code, text):
        return self.answer(status, {"error": code, "error_description": text,
                                    "error_codes": [7000215], "timestamp": time.strftime(
                                        "%Y-%m-%d %H:%M:%SZ", time.gmtime())})

    def token(self, st, ctl, body):
        if not self.headers.get("Content-Type", "").startswith(
                "application/x-www-form-urlencoded"):
            return self.aad_error(400, "invalid_request",
                                  "AADSTS900144: The request body must contain the following "
                                  "parameter: 'grant_type'."), {}
        form = dict(urllib.parse.parse_qsl(body.decode("utf-8", "replace"),
                                           keep_blank_values=True))
        f = st.take(ctl, "token")
        if f:
            h = {"Retry-After": f["retry_after"]} if f.get("retry_after") else {}
            if f.get("error"):
                return self.aad_error(int(f.get("status", 401)), f["error"],
                                      "AADSTS7000215: Invalid client secret provided."), {}
            return self.answer(int(f.get("status", 503)), {"error": "temporarily_unavailable",
                               "error_description": "AADSTS90033: try again"}, h), {}
        if form.get("grant_type") != "client_credentials":
            return self.aad_error(400, "unsupported_grant_type",
                                  "AADSTS70003: unsupported grant type"), {}
        if form.get("client_id") != st.a.client_id:
            return self.aad_error(400, "unauthorized_client",
                                  "AADSTS700016: Application not found in the directory."), {}
        if form.get("scope") != SCOPE:
            return self.aad_error(400, "invalid_scope",
                                  "AADSTS1002012: The provided value for scope is not valid."), {}
        how = None
        if "client_secret" in form:
            if st.a.secret is None or form["client_secret"] != st.a.secret:
                return self.aad_error(401, "invalid_client",
                                      "AADSTS7000215: Invalid client secret provided."), {}
            how = "secret"
        elif form.get("client_assertion_type") == ASSERTION_TYPE:
            why = self.check_assertion(st, form.get("client_assertion", ""))
            if why:
                return self.aad_error(401, "invalid_client", "AADSTS700027: " + why), {}
            how = "certificate"
        else:
            return self.aad_error(401, "invalid_client",
                                  "AADSTS7000218: The request body must contain "
                                  "'client_assertion' or 'client_secret'."), {}
        ttl = int(ctl.get("expires_in", 3599))
        tok = "eyJ0eXAiOiJKV1Qi." + secrets.token_urlsafe(48)
        with st.lock:
            st.tokens[tok] = time.time() + ttl
        return self.answer(200, {"token_type": "Bearer", "expires_in": ttl,
                                 "ext_expires_in": ttl, "access_token": tok}), {"how": how}

    def check_assertion(self, st, jwt):
        from cryptography.exceptions import InvalidSignature
        from cryptography.hazmat.primitives import hashes, serialization
        from cryptography.hazmat.primitives.asymmetric import padding
        if st.cert is None:
            return "no certificate registered"
        try:
            h64, p64, s64 = jwt.split(".")
            head, claims = json.loads(b64url_decode(h64)), json.loads(b64url_decode(p64))
            sig = b64url_decode(s64)
        except (ValueError, binascii.Error):
            return "malformed JWT"
        der = st.cert.public_bytes(serialization.Encoding.DER)
        if head.get("alg") != "RS256" or head.get("x5t") != base64.urlsafe_b64encode(
                hashlib.sha1(der).digest()).decode().rstrip("="):
            return "unknown certificate thumbprint or alg"
        try:
            st.cert.public_key().verify(sig, (h64 + "." + p64).encode(), padding.PKCS1v15(),
                                        hashes.SHA256())
        except InvalidSignature:
            return "signature verification failed"
        aud = "http://127.0.0.1:%d/%s/oauth2/v2.0/token" % (self.server.server_address[1],
                                                             st.a.tenant)
        now = time.time()
        if claims.get("aud") != aud:
            return "wrong audience %r" % claims.get("aud")
        if claims.get("iss") != st.a.client_id or claims.get("sub") != st.a.client_id:
            return "iss/sub is not the client id"
        if not claims.get("jti"):
            return "no jti"
        if not (claims.get("nbf", now + 1) <= now + 5 and now < claims.get("exp", 0) <= now + 660):
            return "the assertion is not valid now"
        return None

    def graph_error(self, status, code, text, headers=None):
        return self.answer(status, {"error": {"code": code, "message": text}}, headers)

    def sendmail(self, st, ctl, path, body):
        auth = self.headers.get("Authorization", "")
        tok = auth[7:] if auth.startswith("Bearer ") else ""
        with st.lock:
            exp = st.tokens.get(tok)
        if ctl.get("always_401") or exp is None or exp <= time.time():
            return self.graph_error(401, "InvalidAuthenticationToken",
                                    "Access token has expired or is not yet valid."), {}
        user = urllib.parse.unquote(path[len("/v1.0/users/"):-len("/sendMail")])
        if user.lower() != st.a.mailbox.lower():
            return self.graph_error(404, "ErrorInvalidUser",
                                    "The requested user '%s' is invalid." % user), {}
        f = st.take(ctl, "sendmail")
        if f:
            h = {"Retry-After": f["retry_after"]} if f.get("retry_after") else {}
            return self.graph_error(int(f.get("status", 503)),
                                    "ApplicationThrottled" if int(f.get("status", 503)) == 429
                                    else "ServiceUnavailable", "Please retry later.", h), {}
        if not self.headers.get("Content-Type", "").startswith("text/plain"):
            return self.graph_error(415, "ErrorUnsupportedContentType",
                                    "Content-Type must be text/plain for MIME"), {}
        if len(body) > 4 * 1024 * 1024:
            return self.graph_error(413, "ErrorMessageSizeExceeded", "too large"), {}
        try:
            raw = base64.b64decode(body, validate=True)
        except (ValueError, binascii.Error):
            return self.graph_error(400, "ErrorMimeContentInvalidBase64String",
                                    "Invalid base64 string for MIME content."), {}
        msg = email.message_from_bytes(raw, policy=email.policy.default)
        need = ["From", "To", "Subject", "Date", "Message-ID"]
        if any(msg[h] is None for h in need) or msg.get_content_type() != \
                "multipart/alternative":
            return self.graph_error(400, "ErrorMimeContentInvalid",
                                    "Invalid MIME content."), {}
        if msg["From"].addresses[0].addr_spec.lower() != st.a.mailbox.lower():
            return self.graph_error(403, "ErrorSendAsDenied",
                                    "The user account which was used to submit this request "
                                    "does not have the right to send mail on behalf of the "
                                    "specified sending account."), {}
        parts = [p.get_content_type() for p in msg.iter_parts()]
        text = next((p.get_content() for p in msg.iter_parts()
                     if p.get_content_type() == "text/plain"), "")
        return self.answer(202), {
            "from": str(msg["From"]), "to": [a.addr_spec for a in msg["To"].addresses],
            "subject": str(msg["Subject"]), "message_id": str(msg["Message-ID"]),
            "in_reply_to": str(msg["In-Reply-To"] or ""),
            "references": str(msg["References"] or ""), "parts": parts, "text": text}


def main():
    ap = standin.arguments(__doc__)
    ap.add_argument("--tenant", required=True)
    ap.add_argument("--client-id", required=True)
    ap.add_argument("--mailbox", required=True)
    ap.add_argument("--secret")
    ap.add_argument("--cert")
    return standin.run(ap, State, Handler)


if __name__ == "__main__":
    sys.exit(main())
