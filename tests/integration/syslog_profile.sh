#!/bin/bash
# syslog_profile.sh - a syslog source naming a profile runs the mail
# profiles' extractors (regex named groups, fallbacks) over the syslog
# message text; an unknown profile is a config error with FILE:LINE.
set -u
. "$top_srcdir/tests/lib/tap.sh"
. "$top_srcdir/tests/lib/daemon.sh"
ab_tmpdir absprof
cat > "$T/ab.conf" <<'CONF'
state_dir = "/tmp";
channels = ( { name = "file"; type = "file"; path = "x.jsonl"; } );
default = ["file"];
profiles = (
  { name = "sshd";
    extractors = (
      { type = "regex"; on = "text";
        pattern = "Failed password for (?<fields_user>\\S+) from (?<asset>\\S+)"; }
    );
    fallback = { type = "auth.failed"; severity = "high"; category = "security"; };
  }
);
syslog = {
  listeners = ( { name = "udp"; proto = "udp"; address = "127.0.0.1:65514"; } );
  sources = ( { name = "auth"; apps = ["sshd"]; profile = "sshd"; } );
};
CONF
plan 5
out=$("$AB" -c "$T/ab.conf" parse --syslog '<38>Nov 23 10:00:00 bastion sshd[812]: Failed password for root from 203.0.113.7 port 4711 ssh2' 2>&1)
like "profile regex fills fields.user" "$out" '"user": ?"root"'
like "profile regex fills asset" "$out" '"asset": ?"203.0.113.7"'
like "profile fallback sets the type" "$out" '"type": ?"auth.failed"'
sed -i 's/profile = "sshd";/profile = "nope";/' "$T/ab.conf"
out=$("$AB" -c "$T/ab.conf" check 2>&1); rc=$?
is "unknown profile fails check" "$rc" 78
like "with file, line and the name" "$out" "ab.conf:[0-9]+: syslog source 'auth': unknown profile 'nope'"
