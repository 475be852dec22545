# postfix.sh - a private Postfix instance for the milter integration tests
# (sourced after tap.sh and daemon.sh): own config_directory and queue_directory in the
# test's temp dir, smtpd on a loopback port, smtpd_milters and
# non_smtpd_milters = inet:127.0.0.1:MPORT, virtual delivery into Maildirs
# under DIR/mail (owner nobody), its log in DIR/postfix.log.
#
#   pf_require                 not ok + exit 1 unless root, postfix, swaks
#                              (a skip under a user's make distcheck)
#   pf_setup DIR SPORT MPORT ADDR...
#                              write the instance into DIR/pf (sets $PF); each
#                              ADDR (user@example.com) gets the Maildir
#                              DIR/mail/user/; add settings with
#                              postconf -c "$PF/etc" name=value afterwards
#   pf_stop                    stop the instance
#   pf_begin PREFIX            make the test's temp dir $T (ab_tmpdir: /tmp/PREFIX.*,
#                              mode 755, removed at exit with every process the
#                              test started; AB_KEEP=1 or KEEP=1 keeps it) and
#                              stop the instance at exit (pf_stop)
# Start it with: postfix -c "$PF/etc" start.

pf_require() {
	if [ "$(id -u)" -ne 0 ] || ! command -v postfix >/dev/null || ! command -v swaks >/dev/null; then
		# Not a skip in CI: contrib/install-deps.sh --test installs both and CI runs as root.
		ab_distcheck_skip "needs root, postfix and swaks"
		echo "1..1"; echo "not ok 1 - needs root, postfix and swaks (contrib/install-deps.sh --test)"
		exit 1
	fi
}

pf_setup() {
	local dir=$1 sport=$2 mport=$3 a
	shift 3
	PF="$dir/pf"
	mkdir -p "$PF/etc" "$PF/queue" "$PF/data" "$dir/mail"
	chown nobody "$dir/mail"
	chown postfix "$PF/data"
	cp /etc/postfix/master.cf "$PF/etc/master.cf"
	cp /etc/postfix/dynamicmaps.cf "$PF/etc/" 2>/dev/null
	[ -d /etc/postfix/dynamicmaps.cf.d ] && cp -r /etc/postfix/dynamicmaps.cf.d "$PF/etc/"
	for a in "$@"; do echo "$a ${a%@*}/"; done > "$PF/etc/vmailbox"
	cat > "$PF/etc/main.cf" <<CONF
compatibility_level = 3.6
queue_directory = $PF/queue
data_directory = $PF/data
mail_owner = postfix
setgid_group = postdrop
myhostname = mx.test.local
mydomain = test.local
mydestination =
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
smtputf8_enable = no
maillog_file = $dir/postfix.log
maillog_file_prefixes = /var, /dev/stdout, /tmp
virtual_mailbox_domains = example.com
virtual_mailbox_base = $dir/mail
virtual_mailbox_maps = texthash:$PF/etc/vmailbox
virtual_uid_maps = static:$(id -u nobody)
virtual_gid_maps = static:$(id -g nobody)
virtual_minimum_uid = 100
smtpd_milters = inet:127.0.0.1:$mport
non_smtpd_milters = inet:127.0.0.1:$mport
milter_default_action = accept
milter_protocol = 6
CONF
	postconf -c "$PF/etc" -M# smtp/inet >/dev/null 2>&1
	postconf -c "$PF/etc" -Me "127.0.0.1:$sport/inet = 127.0.0.1:$sport inet n - n - - smtpd"
	postconf -c "$PF/etc" -M# postlog/unix-dgram >/dev/null 2>&1
	postconf -c "$PF/etc" -Me "postlog/unix-dgram = postlog unix-dgram n - n - 1 postlogd"
	postconf -c "$PF/etc" -F '*/*/chroot = n'
}

pf_stop() { [ -n "${PF:-}" ] && postfix -c "$PF/etc" stop >/dev/null 2>&1; }

pf_begin() {
	ab_tmpdir "$1"
	ab_on_exit pf_stop
}
