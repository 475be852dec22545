/*
 * test_syslog.c - unit tests for the syslog parser chain (src/parse/syslog.c).
 *
 * Table-driven: RFC 5424 examples (RFC 5424 section 6.5), RFC 3164 examples
 * and real-world variants, CEF from several vendors, LEEF 1.0 and 2.0,
 * Wazuh, Suricata EVE, Falco and @cee JSON; then hostile input (bad PRI,
 * truncated headers, 10,000 escaped pipes, invalid UTF-8, NUL bytes, a
 * 1 MiB line) that must parse without crashing into a sane event.  Every
 * event is also round-tripped through ab_event_from_json().
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <glob.h>

#include <cmocka.h>
#include <jansson.h>

#include "event/event.h"
#include "parse/syslog.h"
#include "lib/util.h"
#include "../harness/testutil.h"

#define NOW_MS 1710928800000LL      /* 2024-03-20T10:00:00Z */
#define MAXF 16

struct fexp {
	const char *key;
	const char *json;   /* expected value as compact JSON; NULL = must be absent */
};

struct tcase {
	const char *name;
	const char *line;
	const char *type, *category, *severity, *tool, *source, *title, *host;
	const char *occurred;   /* RFC 3339, or NULL for unset */
	const char *summary;    /* NULL = not checked */
	const char *asset;      /* NULL = not checked */
	struct fexp f[MAXF];
};

static const struct tcase cases[] = {
	/* ---- RFC 5424 section 6.5 */
	{ "5424 example 1",
	  "<34>1 2003-10-11T22:14:15.003Z mymachine.example.com su - ID47 - \xEF\xBB\xBF'su root' failed for lonvick on /dev/pts/8",
	  "syslog.message", "system", "critical", "su", "syslog",
	  "'su root' failed for lonvick on /dev/pts/8", "mymachine.example.com",
	  "2003-10-11T22:14:15.003Z", "'su root' failed for lonvick on /dev/pts/8", NULL,
	  { { "syslog.facility", "4" }, { "syslog.severity", "2" }, { "syslog.msgid", "\"ID47\"" },
	    { "syslog.appname", "\"su\"" }, { "syslog.procid", NULL },
	    { "syslog.format", "\"rfc5424\"" } } },
	{ "5424 example 2",
	  "<165>1 2003-08-24T05:14:15.000003-07:00 192.0.2.1 myproc 8710 - - %% It's time to make the do-nuts.",
	  "syslog.message", "system", "low", "myproc", "syslog",
	  "%% It's time to make the do-nuts.", "192.0.2.1", "2003-08-24T12:14:15Z", NULL, NULL,
	  { { "syslog.facility", "20" }, { "syslog.severity", "5" }, { "syslog.procid", "\"8710\"" },
	    { "syslog.msgid", NULL } } },
	{ "5424 example 3",
	  "<165>1 2003-10-11T22:14:15.003Z mymachine.example.com evntslog - ID47 [exampleSDID@32473 iut=\"3\" eventSource=\"Application\" eventID=\"1011\"] \xEF\xBB\xBF" "An application event log entry...",
	  "syslog.message", "system", "low", "evntslog", "syslog",
	  "An application event log entry...", "mymachine.example.com", "2003-10-11T22:14:15.003Z",
	  NULL, NULL,
	  { { "sd.exampleSDID@32473.iut", "\"3\"" },
	    { "sd.exampleSDID@32473.eventSource", "\"Application\"" },
	    { "sd.exampleSDID@32473.eventID", "\"1011\"" } } },
	{ "5424 example 4 (two SD elements, no MSG)",
	  "<165>1 2003-10-11T22:14:15.003Z mymachine.example.com evntslog - ID47 [exampleSDID@32473 iut=\"3\" eventSource=\"Application\" eventID=\"1011\"][examplePriority@32473 class=\"high\"]",
	  "syslog.message", "system", "low", "evntslog", "syslog",
	  "(empty syslog message)", "mymachine.example.com", "2003-10-11T22:14:15.003Z", NULL, NULL,
	  { { "sd.examplePriority@32473.class", "\"high\"" },
	    { "sd.exampleSDID@32473.iut", "\"3\"" } } },
	{ "5424 all nil, SD escapes",
	  "<14>1 - - - - - [x@1 a=\"q\\\"t\\\\b\\]c\" d=\"\\n\"] hi",
	  "syslog.message", "system", "info", NULL, "syslog", "hi", "peer.example", NULL, NULL, NULL,
	  { { "sd.x@1.a", "\"q\\\"t\\\\b]c\"" }, { "sd.x@1.d", "\"\\\\n\"" },
	    { "syslog.appname", NULL } } },
	{ "5424 bad SD kept as message",
	  "<14>1 2024-01-15T09:00:00+01:00 h app - - [broken sd no close",
	  "syslog.message", "system", "info", "app", "syslog", "[broken sd no close", "h",
	  "2024-01-15T08:00:00Z", NULL, NULL,
	  { { "syslog.sd_invalid", "true" } } },
	/* ---- RFC 3164 */
	{ "3164 example 1",
	  "<34>Oct 11 22:14:15 mymachine su: 'su root' failed for lonvick on /dev/pts/8",
	  "syslog.message", "system", "critical", "su", "syslog",
	  "'su root' failed for lonvick on /dev/pts/8", "mymachine", "2023-10-11T22:14:15Z", NULL,
	  NULL, { { "syslog.format", "\"rfc3164\"" }, { "syslog.facility", "4" } } },
	/* RFC 3164 4.1.3 and rsyslog: a non-alphanumeric character (here SP)
	 * ends the TAG, so "Use" is the TAG */
	{ "3164 example 2 (space-padded day, TAG ended by SP)",
	  "<13>Feb  5 17:32:18 10.0.0.99 Use the BFG!",
	  "syslog.message", "system", "low", "Use", "syslog", "the BFG!", "10.0.0.99",
	  "2024-02-05T17:32:18Z", NULL, NULL, { { "syslog.appname", "\"Use\"" } } },
	{ "3164 no PRI, tag[pid]",
	  "Jan  5 10:00:00 web01 sshd[1234]: Failed password for root from 203.0.113.5 port 22 ssh2\n",
	  "syslog.message", "system", "low", "sshd", "syslog",
	  "Failed password for root from 203.0.113.5 port 22 ssh2", "web01",
	  "2024-01-05T10:00:00Z", NULL, NULL,
	  { { "syslog.procid", "\"1234\"" }, { "syslog.facility", "1" }, { "syslog.severity", "5" } } },
	{ "3164 no host (local /dev/log style), year rolls back",
	  "<11>Dec 31 23:59:59 postfix/smtpd[77]: warning: hostname does not resolve\r\n",
	  "syslog.message", "system", "high", "postfix/smtpd", "syslog",
	  "warning: hostname does not resolve", "peer.example", "2023-12-31T23:59:59Z", NULL, NULL,
	  { { "syslog.procid", "\"77\"" } } },
	/* a Cisco "%ASA-n-nnnnnn:" is the message's own ID, not a TAG: kept
	 * in MSG, the same with and without a device-id host */
	{ "3164 Cisco year and trailing colon",
	  "<166>Jan 14 2024 12:00:00: %ASA-6-302013: Built outbound TCP connection",
	  "syslog.message", "system", "info", NULL, "syslog",
	  "%ASA-6-302013: Built outbound TCP connection", "peer.example", "2024-01-14T12:00:00Z",
	  NULL, NULL, { { "syslog.facility", "20" }, { "syslog.appname", NULL } } },
	{ "3164 Cisco ASA with device-id host and \" : \"",
	  "<164>Mar  7 19:06:53 asa01 : %ASA-4-106023: Deny tcp src outside:192.0.2.1/5 dst inside:10.0.0.1/80",
	  "syslog.message", "system", "medium", NULL, "syslog",
	  "%ASA-4-106023: Deny tcp src outside:192.0.2.1/5 dst inside:10.0.0.1/80", "asa01",
	  "2024-03-07T19:06:53Z", NULL, NULL, { { "syslog.appname", NULL } } },
	/* ---- RFC 3164 as rsyslog's pmrfc3164 reads it */
	{ "3164 space after PRI (HP ProCurve style)",
	  "<167> Mar  7 19:06:53 host tag: m",
	  "syslog.message", "system", "info", "tag", "syslog", "m", "host", "2024-03-07T19:06:53Z",
	  "m", NULL, { { "syslog.appname", "\"tag\"" }, { "syslog.severity", "7" } } },
	{ "3164 TAG ended by a space",
	  "<13>Mar  7 19:06:53 host tag m",
	  "syslog.message", "system", "low", "tag", "syslog", "m", "host", "2024-03-07T19:06:53Z",
	  "m", NULL, { { "syslog.appname", "\"tag\"" }, { "syslog.procid", NULL } } },
	{ "3164 TAG[pid] ended by a space",
	  "<13>Mar  7 19:06:53 host tag[42] m",
	  "syslog.message", "system", "low", "tag", "syslog", "m", "host", "2024-03-07T19:06:53Z",
	  "m", NULL, { { "syslog.procid", "\"42\"" } } },
	{ "3164 lone word after the timestamp is the HOSTNAME",
	  "<13>Mar  7 19:06:53 lone",
	  "syslog.message", "system", "low", NULL, "syslog", "(empty syslog message)", "lone",
	  "2024-03-07T19:06:53Z", NULL, NULL, { { "syslog.appname", NULL } } },
	{ "3164 host and a lone word: the TAG",
	  "<13>Mar  7 19:06:53 host word",
	  "syslog.message", "system", "low", "word", "syslog", "(empty syslog message)", "host",
	  "2024-03-07T19:06:53Z", NULL, NULL, { { "syslog.appname", "\"word\"" } } },
	{ "3164 tag:msg without SP",
	  "<13>Mar  7 19:06:53 host app:text",
	  "syslog.message", "system", "low", "app", "syslog", "text", "host",
	  "2024-03-07T19:06:53Z", NULL, NULL, { { NULL, NULL } } },
	{ "3164 IPv6 HOSTNAME",
	  "<13>Mar  7 19:06:53 2001:db8::1 sshd[7]: Accepted publickey",
	  "syslog.message", "system", "low", "sshd", "syslog", "Accepted publickey", "2001:db8::1",
	  "2024-03-07T19:06:53Z", NULL, NULL, { { "syslog.procid", "\"7\"" } } },
	{ "3164 year before the month (Brocade)",
	  "<13>2023 Mar  7 19:06:53 sw1 raslogd: port 3 down",
	  "syslog.message", "system", "low", "raslogd", "syslog", "port 3 down", "sw1",
	  "2023-03-07T19:06:53Z", NULL, NULL, { { NULL, NULL } } },
	{ "3164 year after the time",
	  "<13>Mar  7 19:06:53 2022 sw1 raslogd: port 3 down",
	  "syslog.message", "system", "low", "raslogd", "syslog", "port 3 down", "sw1",
	  "2022-03-07T19:06:53Z", NULL, NULL, { { NULL, NULL } } },
	{ "3164 Feb 30 is no timestamp",
	  "<13>Feb 30 10:00:00 host app: x",
	  "syslog.message", "system", "low", NULL, "syslog", "Feb 30 10:00:00 host app: x",
	  "peer.example", NULL, NULL, NULL, { { "syslog.appname", NULL } } },
	{ "3164 FortiGate key=value, no timestamp, no TAG",
	  "<189>date=2024-01-02 time=10:11:12 devname=\"FGT60F\" devid=\"FGT60F0000000001\" logid=\"0419016384\" type=\"utm\" subtype=\"ips\" level=\"alert\" msg=\"tcp_flood\"",
	  "syslog.message", "system", "low", NULL, "syslog",
	  "date=2024-01-02 time=10:11:12 devname=\"FGT60F\" devid=\"FGT60F0000000001\" logid=\"0419016384\" type=\"utm\" subtype=\"ips\" level=\"alert\" msg=\"tcp_flood\"",
	  "peer.example", NULL, NULL, NULL, { { "syslog.appname", NULL }, { "syslog.facility", "23" } } },
	{ "3164 FortiGate key=value after timestamp and host",
	  "<189>Jan  2 10:11:12 fgt01 date=2024-01-02 time=10:11:12 devname=\"FGT60F\" level=\"warning\"",
	  "syslog.message", "system", "low", NULL, "syslog",
	  "date=2024-01-02 time=10:11:12 devname=\"FGT60F\" level=\"warning\"", "fgt01",
	  "2024-01-02T10:11:12Z", NULL, NULL, { { "syslog.appname", NULL } } },
	{ "3164 key=value right after the timestamp: no HOSTNAME",
	  "<189>Jan  2 10:11:12 date=2024-01-02 time=10:11:12",
	  "syslog.message", "system", "low", NULL, "syslog", "date=2024-01-02 time=10:11:12",
	  "peer.example", "2024-01-02T10:11:12Z", NULL, NULL, { { "syslog.appname", NULL } } },
	{ "3164 PAN-OS CSV after the host: no TAG",
	  "<14>Mar  7 19:06:53 PA-VM 1,2024/03/07 19:06:53,012801000001,THREAT,url,2561,2024/03/07 19:06:53,10.0.0.5",
	  "syslog.message", "system", "info", NULL, "syslog",
	  "1,2024/03/07 19:06:53,012801000001,THREAT,url,2561,2024/03/07 19:06:53,10.0.0.5", "PA-VM",
	  "2024-03-07T19:06:53Z", NULL, NULL, { { "syslog.appname", NULL } } },
	{ "3164 fail2ban: name, spaces, [pid]:",
	  "<13>Mar  7 19:06:53 host fail2ban.actions        [1234]: NOTICE  [sshd] Ban 192.0.2.1",
	  "syslog.message", "system", "low", "fail2ban.actions", "syslog",
	  "NOTICE  [sshd] Ban 192.0.2.1", "host", "2024-03-07T19:06:53Z", NULL, NULL,
	  { { "syslog.procid", "\"1234\"" } } },
	{ "3164 no timestamp: no HOSTNAME, no SP-ended TAG",
	  "<13>hello world foo",
	  "syslog.message", "system", "low", NULL, "syslog", "hello world foo", "peer.example",
	  NULL, NULL, NULL, { { "syslog.appname", NULL } } },
	{ "3164 headerless '[' text (rsyslog rule)",
	  "<11>[Mon Jan 15 10:00:00 2024] [error] x",
	  "syslog.message", "system", "high", NULL, "syslog", "[Mon Jan 15 10:00:00 2024] [error] x",
	  "peer.example", NULL, NULL, NULL, { { "syslog.appname", NULL } } },
	{ "3164 ISO timestamp (rsyslog forward format)",
	  "<30>2024-01-15T10:30:00.250+01:00 host1 kernel: [1.2] eth0 up",
	  "syslog.message", "system", "info", "kernel", "syslog", "[1.2] eth0 up", "host1",
	  "2024-01-15T09:30:00.250Z", NULL, NULL, { { "syslog.severity", "6" } } },
	{ "3164 no timestamp, tag only",
	  "<38>sshd[5]: Accepted publickey for alice",
	  "syslog.message", "system", "info", "sshd", "syslog", "Accepted publickey for alice",
	  "peer.example", NULL, NULL, NULL, { { "syslog.procid", "\"5\"" } } },
	{ "3164 multi-line message: title is the first line",
	  "<13>Jan 15 09:00:00 h app: first line\nsecond line",
	  "syslog.message", "system", "low", "app", "syslog", "first line", "h",
	  "2024-01-15T09:00:00Z", "first line\nsecond line", NULL, { { NULL, NULL } } },
	/* ---- CEF */
	{ "CEF ArcSight-style with escapes and multi-word values",
	  "<134>Sep 19 08:26:10 host CEF:0|Security|threatmanager|1.0|100|worm successfully stopped|10|src=10.0.0.1 dst=2.1.2.2 spt=1232 msg=Detected a threat. No action needed. cs1Label=a\\=b cs1=x\\\\y\\nz",
	  "finding.created", "security", "critical", "security", "syslog",
	  "worm successfully stopped", "host", "2023-09-19T08:26:10Z",
	  "Detected a threat. No action needed.", "2.1.2.2",
	  { { "cef.vendor", "\"Security\"" }, { "cef.product", "\"threatmanager\"" },
	    { "cef.signature_id", "\"100\"" }, { "cef.severity", "\"10\"" },
	    { "cef.msg", "\"Detected a threat. No action needed.\"" }, { "cef.cs1Label", "\"a=b\"" },
	    { "cef.cs1", "\"x\\\\y\\nz\"" }, { "cef.spt", "\"1232\"" },
	    { "syslog.payload", "\"cef\"" } } },
	{ "CEF header escapes \\| and \\\\",
	  "CEF:0|Vendor\\|X|Pro\\\\duct|2|sig|Name with \\| pipe|Medium|suser=bob",
	  "finding.created", "security", "medium", "vendor|x", "syslog", "Name with | pipe",
	  "peer.example", NULL, NULL, NULL,
	  { { "cef.vendor", "\"Vendor|X\"" }, { "cef.product", "\"Pro\\\\duct\"" },
	    { "cef.suser", "\"bob\"" } } },
	/* without msg= the summary is the payload as it was sent: escapes kept
	 * (unescaping fields must not shift the text the summary is cut from) */
	{ "CEF without msg=: summary is the text as sent",
	  "CEF:0|V\\|X|P|1|S|N|5|cs1=a\\=b suser=dom\\\\jdoe request=https\\://x.example/?id\\=7",
	  "finding.created", "security", "medium", "v|x", "syslog", "N", "peer.example", NULL,
	  "CEF:0|V\\|X|P|1|S|N|5|cs1=a\\=b suser=dom\\\\jdoe request=https\\://x.example/?id\\=7",
	  NULL,
	  { { "cef.vendor", "\"V|X\"" }, { "cef.cs1", "\"a=b\"" }, { "cef.suser", "\"dom\\\\jdoe\"" },
	    { "cef.request", "\"https://x.example/?id=7\"" } } },
	{ "CEF Fortinet-like after a device prefix",
	  "<189>date=2024-01-15 time=10:30:00 devname=\"FGT60F\" CEF:0|Fortinet|Fortigate|v7.2.5|0419016384|ips: signature detected|7|src=198.51.100.9 dst=10.1.1.5 act=dropped rt=1705314600000",
	  "finding.created", "security", "high", "fortinet", "firewall", "ips: signature detected",
	  "peer.example", "2024-01-15T10:30:00Z", NULL, "10.1.1.5",
	  { { "cef.act", "\"dropped\"" }, { "cef.device_version", "\"v7.2.5\"" } } },
	/* Defender for Identity escapes the colon of its links (https\://) */
	{ "CEF MDI-like, escaped colon in a link",
	  "<36>Jan 10 09:00:00 mdi01 CEF:0|Microsoft|Azure ATP|2.0|EncryptionDowngradeSecurityAlert|Encryption downgrade activity|5|start=2024-01-10T09:00:00.0000000Z app=Kerberos shost=WS01 msg=Encryption downgrade cs1Label=url cs1=https\\://contoso.atp.azure.com/securityAlert/ab12",
	  "finding.created", "security", "medium", "microsoft", "syslog", "Encryption downgrade activity",
	  "mdi01", "2024-01-10T09:00:00Z", NULL, NULL,
	  { { "cef.cs1", "\"https://contoso.atp.azure.com/securityAlert/ab12\"" } } },
	{ "CEF Check Point-like, word severity and empty extension",
	  "<134>1 2024-01-15T10:00:00Z fw1 CheckPoint 1234 - - CEF:0|Check Point|VPN-1 & FireWall-1|R81|Drop|Drop|Very-High|",
	  "finding.created", "security", "critical", "check point", "firewall", "Drop", "fw1",
	  "2024-01-15T10:00:00Z", NULL, NULL,
	  { { "cef.severity", "\"Very-High\"" }, { "syslog.appname", "\"CheckPoint\"" } } },
	{ "CEF WAF with low severity and request URL containing '='",
	  "<134>Jan 15 10:00:00 waf1 CEF:0|Imperva Inc.|SecureSphere|14.7|SQLi|SQL injection|2|request=https://x.example/?a=1&b=2 dhost=shop.example duser=",
	  "finding.created", "security", "low", "imperva inc.", "waf", "SQL injection", "waf1",
	  "2024-01-15T10:00:00Z", NULL, "shop.example",
	  { { "cef.request", "\"https://x.example/?a=1&b=2\"" }, { "cef.duser", "\"\"" } } },
	{ "CEF with too few pipes is a plain message",
	  "<14>Jan 15 10:00:00 h CEF:0|a|b|c",
	  "syslog.message", "system", "info", NULL, "syslog", "CEF:0|a|b|c", "h",
	  "2024-01-15T10:00:00Z", NULL, NULL, { { "syslog.payload", NULL } } },
	{ "CEF extension keys named like header fields stay apart",
	  "<134>Jan 15 10:00:00 h CEF:0|Trend Micro|Deep Security Agent|20.0|1001|Header title|3|name=ext name severity=10 vendor=ev product=ep version=9 device_version=dv signature_id=si ext.x=y src=10.0.0.1",
	  "finding.created", "security", "low", "trend micro", "syslog", "Header title", "h",
	  "2024-01-15T10:00:00Z", NULL, NULL,
	  { { "cef.name", "\"Header title\"" }, { "cef.severity", "\"3\"" },
	    { "cef.vendor", "\"Trend Micro\"" }, { "cef.product", "\"Deep Security Agent\"" },
	    { "cef.version", "\"0\"" }, { "cef.device_version", "\"20.0\"" },
	    { "cef.signature_id", "\"1001\"" }, { "cef.ext.name", "\"ext name\"" },
	    { "cef.ext.severity", "\"10\"" }, { "cef.ext.vendor", "\"ev\"" },
	    { "cef.ext.product", "\"ep\"" }, { "cef.ext.version", "\"9\"" },
	    { "cef.ext.device_version", "\"dv\"" }, { "cef.ext.signature_id", "\"si\"" },
	    { "cef.ext.ext.x", "\"y\"" }, { "cef.src", "\"10.0.0.1\"" } } },
	{ "CEF keys with ',', '.', '_', '-', '[]' and digits",
	  "CEF:0|Microsoft|Windows|10|4625|An account failed to log on|5|msg=Logon failure ad.Error_,Code=0xC000006D ad.Sub-Status=0xC000006A cs1Label=Logon Type cs1=3 ad.Key[0]=a 2nd=b suser=bob",
	  "finding.created", "security", "medium", "microsoft", "syslog",
	  "An account failed to log on", "peer.example", NULL, "Logon failure", NULL,
	  { { "cef.msg", "\"Logon failure\"" }, { "cef.ad.Error_,Code", "\"0xC000006D\"" },
	    { "cef.ad.Sub-Status", "\"0xC000006A\"" }, { "cef.cs1Label", "\"Logon Type\"" },
	    { "cef.cs1", "\"3\"" }, { "cef.ad.Key[0]", "\"a\"" }, { "cef.2nd", "\"b\"" },
	    { "cef.suser", "\"bob\"" } } },
	{ "CEF decode_cef edge cases: escapes, spaces, empty, pipe, tab",
	  "CEF:0|security\\\\compliance|threat\\|->manager|1.0|100|escapes|10|spt=1232 msg=Newlines\\nhere\\\\n and a\\=b src= cs1=x|y cs2=Tab\tis no separator\tcs3=z pad=kept   dhost=h1.example   \t ",
	  "finding.created", "security", "critical", "security\\compliance", "syslog", "escapes",
	  "peer.example", NULL, NULL, "h1.example",
	  { { "cef.vendor", "\"security\\\\compliance\"" }, { "cef.product", "\"threat|->manager\"" },
	    { "cef.msg", "\"Newlines\\nhere\\\\n and a=b\"" }, { "cef.src", "\"\"" },
	    { "cef.cs1", "\"x|y\"" }, { "cef.cs2", "\"Tab\\tis no separator\\tcs3=z\"" },
	    { "cef.cs3", NULL }, { "cef.pad", "\"kept  \"" }, { "cef.dhost", "\"h1.example\"" },
	    { "cef.spt", "\"1232\"" } } },
	{ "CEF leading space in the extension, unescaped '=' kept",
	  "CEF:0|V|P|1|S|N|1| src=10.0.0.1 request=/a?b=c&d=e act=blocked",
	  "finding.created", "security", "low", "v", "syslog", "N", "peer.example", NULL, NULL, NULL,
	  { { "cef.src", "\"10.0.0.1\"" }, { "cef.request", "\"/a?b=c&d=e\"" },
	    { "cef.act", "\"blocked\"" } } },
	{ "CEF right after the PRI",
	  "<134>CEF:0|V|P|1|S|N|8|src=10.0.0.1",
	  "finding.created", "security", "high", "v", "syslog", "N", "peer.example", NULL, NULL, NULL,
	  { { "cef.src", "\"10.0.0.1\"" }, { "syslog.payload", "\"cef\"" } } },
	{ "CEF glued to the host (no SP between header and CEF)",
	  "<134>Jan 15 10:00:00 fw01CEF:0|V|P|1|S|N|8|src=10.0.0.1",
	  "finding.created", "security", "high", "v", "syslog", "N", "fw01",
	  "2024-01-15T10:00:00Z", "CEF:0|V|P|1|S|N|8|src=10.0.0.1", NULL,
	  { { "cef.src", "\"10.0.0.1\"" }, { "syslog.appname", NULL } } },
	{ "CEF after a tag with no SP",
	  "<134>Jan 15 10:00:00 host app:CEF:0|V|P|1|S|N|8|src=10.0.0.1",
	  "finding.created", "security", "high", "v", "syslog", "N", "host",
	  "2024-01-15T10:00:00Z", NULL, NULL,
	  { { "cef.src", "\"10.0.0.1\"" }, { "syslog.appname", "\"app\"" } } },
	{ "CEF right after other text in the message",
	  "<134>Jan 15 10:00:00 host app: prefix-text:CEF:0|V|P|1|S|N|8|src=10.0.0.1",
	  "finding.created", "security", "high", "v", "syslog", "N", "host",
	  "2024-01-15T10:00:00Z", "prefix-text:CEF:0|V|P|1|S|N|8|src=10.0.0.1", NULL,
	  { { "cef.src", "\"10.0.0.1\"" } } },
	{ "CEF rt as a date, no Name: title from msg",
	  "CEF:0|FooBar|Web Gateway|1.2|200||2|rt=Sep 07 2018 14:50:39 cat=Access Log msg=first line\\nsecond",
	  "finding.created", "security", "low", "foobar", "syslog", "first line", "peer.example",
	  "2018-09-07T14:50:39Z", "first line\nsecond", NULL,
	  { { "cef.cat", "\"Access Log\"" }, { "cef.rt", "\"Sep 07 2018 14:50:39\"" } } },
	{ "CEF severity a 90-digit number: refused, PRI severity kept",
	  "<131>Jan 15 10:00:00 h CEF:0|V|P|1|S|N|999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999|rt=99999999999999999999999999",
	  "finding.created", "security", "high", "v", "syslog", "N", "h", "2024-01-15T10:00:00Z",
	  NULL, NULL, { { "cef.rt", "\"99999999999999999999999999\"" } } },
	{ "CEF version not a number is no CEF",
	  "<14>Jan 15 10:00:00 h app: CEF:x|a|b|c|d|e|f|g=h",
	  "syslog.message", "system", "info", "app", "syslog", "CEF:x|a|b|c|d|e|f|g=h", "h",
	  "2024-01-15T10:00:00Z", NULL, NULL, { { "syslog.payload", NULL } } },
	/* ---- LEEF */
	{ "LEEF 1.0 tab-delimited",
	  "<13>Jan 15 10:00:00 qradar LEEF:1.0|Microsoft|MSExchange|4.0 SP1|15345|src=10.50.1.1\tdst=2.10.20.20\tsev=8\tusrName=joe user",
	  "finding.created", "security", "high", "microsoft", "syslog", "15345", "qradar",
	  "2024-01-15T10:00:00Z", NULL, "2.10.20.20",
	  { { "leef.usrName", "\"joe user\"" }, { "leef.product_version", "\"4.0 SP1\"" },
	    { "leef.sev", "\"8\"" }, { "syslog.payload", "\"leef\"" } } },
	{ "LEEF 2.0 with ^ delimiter",
	  "<13>Jan 15 10:00:00 qradar LEEF:2.0|Lancope|StealthWatch|1.0|41|^|src=10.0.1.8^dst=10.0.0.5^sev=5^msg=hello world",
	  "finding.created", "security", "medium", "lancope", "syslog", "41", "qradar",
	  "2024-01-15T10:00:00Z", "hello world", NULL,
	  { { "leef.src", "\"10.0.1.8\"" }, { "leef.msg", "\"hello world\"" } } },
	{ "LEEF 2.0 with hex delimiter x7C-free x5E",
	  "LEEF:2.0|Trend|DeepSecurity|20|IPS|x5E|sev=10^name=Exploit",
	  "finding.created", "security", "critical", "trend", "syslog", "IPS", "peer.example",
	  NULL, NULL, NULL, { { "leef.name", "\"Exploit\"" } } },
	{ "LEEF 2.0 without the delimiter field (tabs)",
	  "<13>Jan 15 10:00:00 qradar LEEF:2.0|Vendor|Product|1.0|EventID|src=10.0.0.1\tsev=3\tusrName=joe user\tvendor=attr",
	  "finding.created", "security", "low", "vendor", "syslog", "EventID", "qradar",
	  "2024-01-15T10:00:00Z", NULL, NULL,
	  { { "leef.event_id", "\"EventID\"" }, { "leef.src", "\"10.0.0.1\"" },
	    { "leef.usrName", "\"joe user\"" }, { "leef.vendor", "\"Vendor\"" },
	    { "leef.ext.vendor", "\"attr\"" }, { "leef.product_version", "\"1.0\"" } } },
	{ "LEEF 2.0 delimiter 0x5e, sev 7 is high on the LEEF scale",
	  "LEEF:2.0|V|P|1.0|E1|0x5e|src=1.1.1.1^sev=7^cat=a b",
	  "finding.created", "security", "high", "v", "syslog", "E1", "peer.example", NULL, NULL,
	  NULL, { { "leef.src", "\"1.1.1.1\"" }, { "leef.cat", "\"a b\"" } } },
	{ "LEEF 2.0 delimiter written \\t",
	  "LEEF:2.0|V|P|1.0|E2|\\t|src=1.1.1.1\tsev=4",
	  "finding.created", "security", "medium", "v", "syslog", "E2", "peer.example", NULL, NULL,
	  NULL, { { "leef.src", "\"1.1.1.1\"" }, { "leef.sev", "\"4\"" } } },
	{ "LEEF 2.0 delimiter a literal tab",
	  "LEEF:2.0|V|P|1.0|E3|\t|src=1.1.1.1\tsev=9",
	  "finding.created", "security", "critical", "v", "syslog", "E3", "peer.example", NULL,
	  NULL, NULL, { { "leef.src", "\"1.1.1.1\"" } } },
	{ "LEEF 2.0 empty delimiter field",
	  "LEEF:2.0|V|P|1.0|E4||src=1.1.1.1\tsev=1",
	  "finding.created", "security", "low", "v", "syslog", "E4", "peer.example", NULL, NULL,
	  NULL, { { "leef.src", "\"1.1.1.1\"" } } },
	{ "LEEF 2.0 '|' in a value without the delimiter field",
	  "LEEF:2.0|V|P|1.0|E5|url=/a|b\tsev=6",
	  "finding.created", "security", "medium", "v", "syslog", "E5", "peer.example", NULL, NULL,
	  NULL, { { "leef.url", "\"/a|b\"" } } },
	{ "LEEF header only, no '|' after the EventID",
	  "LEEF:1.0|V|P|1.0|LoginFailed",
	  "finding.created", "security", "low", "v", "syslog", "LoginFailed", "peer.example", NULL,
	  NULL, NULL, { { "leef.event_id", "\"LoginFailed\"" } } },
	{ "LEEF sev 1e999 is refused",
	  "<12>Jan 15 10:00:00 h LEEF:1.0|V|P|1.0|E|sev=1e999",
	  "finding.created", "security", "medium", "v", "syslog", "E", "h", "2024-01-15T10:00:00Z",
	  NULL, NULL, { { "leef.sev", "\"1e999\"" } } },
	{ "LEEF devTime epoch ms",
	  "LEEF:1.0|V|P|1.0|E|devTime=1705314600000\tsev=2",
	  "finding.created", "security", "low", "v", "syslog", "E", "peer.example",
	  "2024-01-15T10:30:00Z", NULL, NULL, { { NULL, NULL } } },
	/* ---- JSON */
	{ "Wazuh alert JSON",
	  "<14>Jan 15 10:30:00 wazuh-mgr wazuh: {\"timestamp\":\"2024-01-15T10:30:00.123+0000\",\"rule\":{\"level\":12,\"description\":\"sshd: brute force trying to get access\",\"id\":\"5712\",\"groups\":[\"syslog\",\"sshd\"]},\"agent\":{\"id\":\"001\",\"name\":\"web01\",\"ip\":\"10.0.0.5\"},\"full_log\":\"Jan 15 sshd failed\"}",
	  "finding.created", "security", "high", "wazuh", "hids",      /* 12-14: High */
	  "sshd: brute force trying to get access", "wazuh-mgr", "2024-01-15T10:30:00.123Z",
	  "Jan 15 sshd failed", "web01",
	  { { "wazuh.rule.level", "12" }, { "wazuh.rule.id", "\"5712\"" },
	    { "wazuh.agent.name", "\"web01\"" }, { "wazuh.rule.groups", "[\"syslog\",\"sshd\"]" },
	    { "syslog.payload", "\"json\"" } } },
	{ "Suricata EVE alert",
	  "<14>Jan 15 10:30:00 ids1 suricata[99]: {\"timestamp\":\"2024-01-15T10:30:00.123456+0000\",\"event_type\":\"alert\",\"src_ip\":\"198.51.100.7\",\"src_port\":4444,\"dest_ip\":\"10.0.0.5\",\"dest_port\":80,\"proto\":\"TCP\",\"alert\":{\"action\":\"allowed\",\"signature_id\":2010935,\"signature\":\"ET POLICY Suspicious inbound\",\"category\":\"Misc\",\"severity\":2}}",
	  "finding.created", "security", "medium", "suricata", "ids", "ET POLICY Suspicious inbound",
	  "ids1", "2024-01-15T10:30:00.123Z",
	  "ET POLICY Suspicious inbound: 198.51.100.7:4444 -> 10.0.0.5:80 (Misc)", "10.0.0.5",
	  { { "suricata.alert.signature_id", "2010935" }, { "suricata.src_ip", "\"198.51.100.7\"" },
	    { "suricata.dest_port", "80" }, { "suricata.alert.severity", "2" } } },
	{ "nested JSON flattened (Winlogbeat)",
	  "<14>Jan 15 10:30:00 dc01 winlogbeat: {\"@timestamp\":\"2024-01-15T10:29:00Z\",\"message\":\"An account failed to log on.\",\"event\":{\"code\":\"4625\",\"category\":[\"authentication\"]},\"winlog\":{\"event_id\":4625,\"event_data\":{\"TargetUserName\":\"admin\",\"d\":{\"e\":{\"f\":1}}}},\"records\":[{\"x\":1}]}",
	  "syslog.message", "system", "info", "winlogbeat", "syslog", "An account failed to log on.",
	  "dc01", "2024-01-15T10:29:00Z", NULL, NULL,
	  { { "json.winlog.event_id", "4625" }, { "json.event.code", "\"4625\"" },
	    { "json.event.category", "[\"authentication\"]" },
	    { "json.winlog.event_data.TargetUserName", "\"admin\"" },
	    { "json.winlog.event_data.d.e", NULL }, { "json.winlog.event_data.d.e.f", NULL },
	    { "json.records", NULL } } },
	{ "Suricata EVE non-alert",
	  "{\"timestamp\":\"2024-01-15T10:30:00+0000\",\"event_type\":\"flow\",\"src_ip\":\"1.2.3.4\"}",
	  "syslog.message", "system", "low", "suricata", "ids", NULL, "peer.example",
	  "2024-01-15T10:30:00Z", NULL, NULL, { { "suricata.event_type", "\"flow\"" } } },
	{ "Falco",
	  "<14>Jan 15 10:30:00 k8s falco: {\"output\":\"10:30:00 Notice A shell was spawned\",\"priority\":\"Notice\",\"rule\":\"Terminal shell in container\",\"time\":\"2024-01-15T10:30:00.123456789Z\",\"hostname\":\"node1\",\"source\":\"syscall\",\"tags\":[\"container\",\"shell\"]}",
	  "finding.created", "security", "low", "falco", "runtime", "Terminal shell in container",
	  "k8s", "2024-01-15T10:30:00.123Z", "10:30:00 Notice A shell was spawned", "node1",
	  { { "falco.rule", "\"Terminal shell in container\"" }, { "falco.tags", "[\"container\",\"shell\"]" } } },
	{ "@cee JSON",
	  "<14>Jan 15 10:30:00 h app: @cee: {\"msg\":\"login failed\",\"severity\":\"high\",\"user\":\"bob\",\"n\":3,\"nested\":{\"x\":1}}",
	  "syslog.message", "system", "high", "app", "syslog", "login failed", "h",
	  "2024-01-15T10:30:00Z", "login failed", NULL,
	  { { "cee.user", "\"bob\"" }, { "cee.n", "3" }, { "cee.nested", NULL },
	    { "syslog.payload", "\"cee\"" } } },
	{ "Wazuh level past 2^32 is clamped, not wrapped",
	  "{\"rule\":{\"level\":4294967308,\"description\":\"big\"}}",
	  "finding.created", "security", "critical", "wazuh", "hids", "big", "peer.example", NULL,
	  NULL, NULL, { { "wazuh.rule.level", "4294967308" } } },
	{ "Suricata severity past 2^32 is clamped, not wrapped",
	  "{\"event_type\":\"alert\",\"src_ip\":\"1.2.3.4\",\"alert\":{\"signature\":\"s\",\"severity\":4294967297}}",
	  "finding.created", "security", "info", "suricata", "ids", "s", "peer.example", NULL, NULL,
	  NULL, { { NULL, NULL } } },
	{ "broken JSON is a plain message",
	  "<14>Jan 15 10:30:00 h app: {\"msg\": \"unterminated",
	  "syslog.message", "system", "info", "app", "syslog", "{\"msg\": \"unterminated", "h",
	  "2024-01-15T10:30:00Z", NULL, NULL, { { "syslog.payload", NULL } } },
	/* ---- malformed headers */
	{ "PRI <999> is text",
	  "<999>Oct 11 22:14:15 h x: y",
	  "syslog.message", "system", "low", NULL, "syslog", "<999>Oct 11 22:14:15 h x: y",
	  "peer.example", NULL, NULL, NULL, { { "syslog.facility", "1" } } },
	{ "PRI <> is text",
	  "<>hello", "syslog.message", "system", "low", NULL, "syslog", "<>hello", "peer.example",
	  NULL, NULL, NULL, { { NULL, NULL } } },
	{ "PRI <192> is text",
	  "<192>1 2024-01-15T10:00:00Z h a - - - m", "syslog.message", "system", "low", NULL,
	  "syslog", "<192>1 2024-01-15T10:00:00Z h a - - - m", "peer.example", NULL, NULL, NULL,
	  { { NULL, NULL } } },
	{ "PRI <0001> (4 digits) is text",
	  "<0001>x", "syslog.message", "system", "low", NULL, "syslog", "<0001>x", "peer.example",
	  NULL, NULL, NULL, { { NULL, NULL } } },
	{ "truncated 5424 header",
	  "<34>1 2003-10-11T22:14:15.003Z host", "syslog.message", "system", "critical", NULL,
	  "syslog", "1 2003-10-11T22:14:15.003Z host", "peer.example", NULL, NULL, NULL,
	  { { "syslog.format", "\"rfc3164\"" } } },
	{ "5424 bad timestamp falls back",
	  "<34>1 2003-13-11T22:14:15Z h a - - - m", "syslog.message", "system", "critical", NULL,
	  "syslog", "1 2003-13-11T22:14:15Z h a - - - m", "peer.example", NULL, NULL, NULL,
	  { { NULL, NULL } } },
	{ "PRI only", "<13>", "syslog.message", "system", "low", NULL, "syslog",
	  "(empty syslog message)", "peer.example", NULL, NULL, NULL, { { NULL, NULL } } },
	{ "empty line", "", "syslog.message", "system", "low", NULL, "syslog",
	  "(empty syslog message)", "peer.example", NULL, NULL, NULL, { { NULL, NULL } } },
};

static struct ab_event *parse(const char *line, size_t len, const char *peer)
{
	struct ab_event *ev = ab_event_new();
	char err[128] = "";

	assert_non_null(ev);
	assert_int_equal(ab_syslog_parse(line, len, peer, NOW_MS, ev, err, sizeof err), 0);
	return ev;
}

static void check_str(const char *what, const char *want, const char *got)
{
	if (!want && !got)
		return;
	if (!want || !got || strcmp(want, got) != 0)
		fail_msg("%s: want '%s', got '%s'", what, want ? want : "(null)", got ? got : "(null)");
}

/* The event must survive the strict canonical JSON round trip. */
static void roundtrip(const struct ab_event *ev)
{
	char *s = ab_event_dumps(ev), err[256] = "";
	json_error_t jerr;
	json_t *j;
	struct ab_event *back;

	assert_non_null(s);
	j = json_loads(s, 0, &jerr);
	assert_non_null(j);
	back = ab_event_from_json(j, err, sizeof err);
	if (!back)
		fail_msg("from_json: %s", err);
	assert_string_equal(back->id, ev->id);
	ab_event_free(back);
	json_decref(j);
	free(s);
}

/* A yearless RFC 3164 time takes the latest year that puts it at most 31
 * days ahead (from the past, give or take the sender's clock). */
static void test_yearless(void **state)
{
	static const struct { int64_t now; const char *line, *want; } t[] = {
		/* read on 2026-12-05: March is this year's (not next March) */
		{ 1796457600000LL, "<13>Mar  7 08:00:00 web01 app: x", "2026-03-07T08:00:00Z" },
		{ 1796457600000LL, "<13>Jan  2 08:00:00 web01 app: x", "2027-01-02T08:00:00Z" },
		{ 1796457600000LL, "<13>Dec  6 08:00:00 web01 app: x", "2026-12-06T08:00:00Z" },
		/* read on 2024-01-15 */
		{ NOW_MS, "<13>Dec 31 08:00:00 web01 app: x", "2023-12-31T08:00:00Z" },
		{ NOW_MS, "<13>Feb  5 08:00:00 web01 app: x", "2024-02-05T08:00:00Z" },
		{ NOW_MS, "<13>Oct 11 08:00:00 web01 app: x", "2023-10-11T08:00:00Z" },
	};
	char err[256], got[40];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof t / sizeof t[0]; i++) {
		struct ab_event *ev = ab_event_new();

		assert_int_equal(ab_syslog_parse(t[i].line, strlen(t[i].line), "peer.example",
						 t[i].now, ev, err, sizeof err), 0);
		ab_time_format_rfc3339(ev->occurred_at, got, sizeof got);
		if (strcmp(got, t[i].want))
			fail_msg("%s: got %s, want %s", t[i].line, got, t[i].want);
		ab_event_free(ev);
	}
}

static void test_table(void **state)
{
	size_t i, k;

	(void)state;
	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		const struct tcase *t = &cases[i];
		struct ab_event *ev = parse(t->line, strlen(t->line), "peer.example");
		char tbuf[64];

		print_message("case: %s\n", t->name);
		check_str("type", t->type, ev->type);
		check_str("category", t->category, ab_category_name(ev->category));
		check_str("severity", t->severity, ab_severity_name(ev->severity));
		check_str("tool", t->tool, ev->tool);
		check_str("source", t->source, ev->source);
		if (t->title)
			check_str("title", t->title, ev->title);
		check_str("origin.host", t->host, ev->origin.host);
		check_str("origin.kind", "syslog", ev->origin.kind);
		if (t->occurred) {
			ab_time_format_rfc3339(ev->occurred_at, tbuf, sizeof tbuf);
			check_str("occurred_at", t->occurred, tbuf);
		} else if (ev->occurred_at != 0) {
			fail_msg("occurred_at: want unset, got %lld", (long long)ev->occurred_at);
		}
		assert_int_equal(ev->received_at, NOW_MS);
		if (t->summary)
			check_str("summary", t->summary, ev->summary);
		if (t->asset)
			check_str("asset", t->asset, ev->asset);
		assert_true(ab_event_id_valid(ev->id));
		for (k = 0; k < MAXF && t->f[k].key; k++) {
			json_t *v = json_object_get(ev->fields, t->f[k].key);
			char *got = v ? json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY) : NULL;

			check_str(t->f[k].key, t->f[k].json, got);
			free(got);
		}
		roundtrip(ev);
		ab_event_free(ev);
	}
}

static void test_id_stable(void **state)
{
	static const char line[] = "<34>Oct 11 22:14:15 mymachine su: 'su root' failed";
	struct ab_event *a, *b, *c, *d;

	(void)state;
	a = parse(line, strlen(line), "h1");
	b = parse(line, strlen(line), "h1");
	c = parse(line, strlen(line), "h2");
	d = parse("<34>Oct 11 22:14:15 mymachine su: 'su root' failed\n", strlen(line) + 1, "h1");
	assert_string_equal(a->id, b->id);
	assert_string_equal(a->id, d->id);      /* trailing LF is not part of the line */
	assert_string_not_equal(a->id, c->id);  /* peer host is part of the key */
	ab_event_free(a);
	ab_event_free(b);
	ab_event_free(c);
	ab_event_free(d);
}

/* Hostile input: builders for big lines. */
struct hostile {
	const char *name;
	char *(*make)(size_t *len);
};

static char *mk_pipes(size_t *len)
{
	/* CEF whose Name field holds 10,000 escaped pipes */
	size_t n = 0, i;
	char *s = malloc(64 + 20000 + 64);

	assert_non_null(s);
	n += (size_t)snprintf(s, 64, "CEF:0|V|P|1|S|");
	for (i = 0; i < 10000; i++) {
		s[n++] = '\\';
		s[n++] = '|';
	}
	memcpy(s + n, "|5|a=b", 6);
	n += 6;
	*len = n;
	return s;
}

static char *mk_ext_pipes(size_t *len)
{
	size_t n = 0, i;
	char *s = malloc(64 + 30000);

	assert_non_null(s);
	n += (size_t)snprintf(s, 64, "CEF:0|V|P|1|S|N|5|msg=");
	for (i = 0; i < 10000; i++) {
		memcpy(s + n, "\\| ", 3);
		n += 3;
	}
	*len = n;
	return s;
}

static char *mk_mib(size_t *len)
{
	size_t n = 1024 * 1024;
	char *s = malloc(n);

	assert_non_null(s);
	memset(s, 'A', n);
	memcpy(s, "<13>Jan 15 10:00:00 h app: ", 27);
	*len = n;
	return s;
}

static char *mk_utf8(size_t *len)
{
	static const char l[] = "<13>Jan 15 10:00:00 h\xff app\xc3: caf\xc3\xa9 \xed\xa0\x80 \xf4\x90\x80\x80 \xc0\xaf end\xe2\x82";

	*len = sizeof l - 1;
	return memcpy(malloc(sizeof l), l, sizeof l);
}

static char *mk_nul(size_t *len)
{
	static const char l[] = "<13>Jan 15 10:00:00 h app: a\0b\0CEF:0|x\0|y|1|2|3|4|k=v\0w";

	*len = sizeof l - 1;
	return memcpy(malloc(sizeof l), l, sizeof l);
}

static char *mk_sd_many(size_t *len)
{
	size_t n = 0, i;
	char *s = malloc(64 + 500 * 16);

	assert_non_null(s);
	n += (size_t)snprintf(s, 64, "<13>1 - h a - - [x@1");
	for (i = 0; i < 500; i++)
		n += (size_t)snprintf(s + n, 17, " p%03zu=\"v\"", i);
	s[n++] = ']';
	*len = n;
	return s;
}

static char *mk_json_deep(size_t *len)
{
	size_t n = 0, i;
	char *s = malloc(40000);

	assert_non_null(s);
	for (i = 0; i < 10000; i++)
		s[n++] = '[';
	s[n++] = '1';
	for (i = 0; i < 10000; i++)
		s[n++] = ']';
	*len = n;
	memmove(s + 1, s, n);
	s[0] = '{';          /* not valid JSON either way */
	*len = n + 1;
	return s;
}

static const struct hostile hostiles[] = {
	{ "10,000 escaped pipes in a CEF header", mk_pipes },
	{ "10,000 escaped pipes in a CEF extension", mk_ext_pipes },
	{ "1 MiB line", mk_mib },
	{ "invalid UTF-8", mk_utf8 },
	{ "NUL bytes", mk_nul },
	{ "500 SD params", mk_sd_many },
	{ "deeply nested JSON", mk_json_deep },
};

static void test_hostile(void **state)
{
	size_t i, len;

	(void)state;
	for (i = 0; i < sizeof hostiles / sizeof hostiles[0]; i++) {
		char *s = hostiles[i].make(&len);
		struct ab_event *ev;

		print_message("case: %s\n", hostiles[i].name);
		ev = parse(s, len, NULL);
		assert_non_null(ev->title);
		assert_true(strlen(ev->title) <= AB_SYSLOG_MAX_TITLE);
		assert_true(json_object_size(ev->fields) <= AB_SYSLOG_MAX_FIELDS + 16);
		roundtrip(ev);
		if (len > AB_SYSLOG_MAX_LINE) {
			assert_true(json_is_true(json_object_get(ev->fields, "syslog.truncated")));
			assert_true(strlen(ev->summary) <= AB_SYSLOG_MAX_LINE);
		} else {
			assert_null(json_object_get(ev->fields, "syslog.truncated"));
		}
		ab_event_free(ev);
		free(s);
	}
}

static void test_hostile_content(void **state)
{
	size_t len;
	char *s;
	struct ab_event *ev;
	const char *v;

	(void)state;
	s = mk_pipes(&len);
	ev = parse(s, len, NULL);
	assert_string_equal(ev->type, "finding.created");
	v = json_string_value(json_object_get(ev->fields, "cef.name"));
	assert_non_null(v);
	assert_int_equal(strlen(v), 10000);     /* every "\|" became "|" */
	assert_int_equal(strlen(ev->title), AB_SYSLOG_MAX_TITLE);
	ab_event_free(ev);
	free(s);

	s = mk_utf8(&len);
	ev = parse(s, len, NULL);
	assert_non_null(strstr(ev->summary, "caf\xc3\xa9"));
	assert_non_null(strstr(ev->summary, "\xEF\xBF\xBD"));
	assert_null(ev->origin.host);           /* "h\xff" is no hostname, no peer given */
	ab_event_free(ev);
	free(s);

	s = mk_nul(&len);
	ev = parse(s, len, NULL);
	/* "CEF:" right after other text is CEF, as decode_cef reads it */
	assert_string_equal(ev->tool, "x\xEF\xBF\xBD");
	assert_string_equal(ev->title, "3");
	assert_string_equal(json_string_value(json_object_get(ev->fields, "syslog.appname")), "app");
	assert_string_equal(json_string_value(json_object_get(ev->fields, "cef.k")),
			    "v\xEF\xBF\xBDw");
	assert_string_equal(ev->summary, "a\xEF\xBF\xBD" "b\xEF\xBF\xBD"
			    "CEF:0|x\xEF\xBF\xBD|y|1|2|3|4|k=v\xEF\xBF\xBDw");
	ab_event_free(ev);
	free(s);

	s = mk_sd_many(&len);
	ev = parse(s, len, NULL);
	assert_non_null(json_object_get(ev->fields, "sd.x@1.p000"));
	assert_null(json_object_get(ev->fields, "sd.x@1.p499"));   /* capped */
	ab_event_free(ev);
	free(s);
}

/* A CEF line of more than 4 KiB, its "CEF:" more than 1 KiB into the
 * message (after a device prefix), parses to its last extension field. */
static void test_long_cef(void **state)
{
	size_t n = 0, i, cap = 8192;
	char *s = malloc(cap);
	struct ab_event *ev;
	const char *v;

	(void)state;
	assert_non_null(s);
	n += (size_t)snprintf(s, cap, "<132>Jan 15 10:00:00 fw01 ");
	for (i = 0; i < 80; i++)
		n += (size_t)snprintf(s + n, cap - n, "pre%02zu=value%02zu ", i, i);
	assert_true(n > 1024);
	n += (size_t)snprintf(s + n, cap - n,
			      "CEF:0|Vendor|Product|1.0|100|Long line|9|src=192.0.2.1 msg=");
	for (i = 0; i < 1500; i++)
		s[n++] = (char)('a' + i % 26);
	for (i = 0; i < 60; i++)
		n += (size_t)snprintf(s + n, cap - n, " cs%zu=%040zu", i, i);
	n += (size_t)snprintf(s + n, cap - n, " dhost=last.example");
	assert_true(n > 4096);
	assert_true(n < cap);

	ev = parse(s, n, "peer.example");
	assert_string_equal(ev->type, "finding.created");
	assert_string_equal(ev->title, "Long line");
	assert_string_equal(ab_severity_name(ev->severity), "critical");
	assert_string_equal(ev->origin.host, "fw01");
	assert_string_equal(ev->asset, "last.example");
	assert_int_equal(strlen(ev->summary), 1500);
	v = json_string_value(json_object_get(ev->fields, "cef.msg"));
	assert_non_null(v);
	assert_int_equal(strlen(v), 1500);
	v = json_string_value(json_object_get(ev->fields, "cef.cs59"));
	assert_non_null(v);
	assert_string_equal(v, "0000000000000000000000000000000000000059");
	assert_string_equal(json_string_value(json_object_get(ev->fields, "cef.dhost")),
			    "last.example");
	assert_null(json_object_get(ev->fields, "syslog.truncated"));
	roundtrip(ev);
	ab_event_free(ev);
	free(s);
}

/* LEEF sev 1-10 on the LEEF scale: 1-3 low, 4-6 medium, 7-8 high, 9-10
 * critical; outside the scale clamped; not a plain number: unchanged (the
 * PRI's severity, here <12> = warning = medium) unless a word. */
static void test_leef_sev(void **state)
{
	static const struct {
		const char *sev, *want;
	} t[] = {
		{ "1", "low" }, { "3", "low" }, { "4", "medium" }, { "6", "medium" },
		{ "7", "high" }, { "8", "high" }, { "9", "critical" }, { "10", "critical" },
		{ "0", "low" }, { "11", "critical" }, { "-5", "low" }, { " 8 ", "high" },
		{ "99999999999999999999999999999999999999999999999999999999999999999999999999999999999999999", "medium" },
		{ "0x10", "medium" }, { "nan", "medium" }, { "High", "high" }, { "", "medium" },
	};
	char line[256];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof t / sizeof t[0]; i++) {
		struct ab_event *ev;
		int len = snprintf(line, sizeof line, "<12>LEEF:1.0|V|P|1|E|src=1.1.1.1\tsev=%s",
				   t[i].sev);

		assert_true(len > 0 && (size_t)len < sizeof line);
		ev = parse(line, (size_t)len, NULL);
		print_message("sev=%s\n", t[i].sev);
		check_str("severity", t[i].want, ab_severity_name(ev->severity));
		ab_event_free(ev);
	}
}

/* CEF Severity 0-10 on the CEF scale, or the spec's words. */
static void test_cef_sev(void **state)
{
	static const struct {
		const char *sev, *want;
	} t[] = {
		{ "0", "low" }, { "3", "low" }, { "4", "medium" }, { "6", "medium" },
		{ "7", "high" }, { "8", "high" }, { "9", "critical" }, { "10", "critical" },
		{ "Low", "low" }, { "Medium", "medium" }, { "High", "high" },
		{ "Very-High", "critical" }, { "4294967303", "critical" }, { "", "medium" },
	};
	char line[256];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof t / sizeof t[0]; i++) {
		struct ab_event *ev;
		int len = snprintf(line, sizeof line, "<12>CEF:0|V|P|1|S|N|%s|src=1.1.1.1",
				   t[i].sev);

		assert_true(len > 0 && (size_t)len < sizeof line);
		ev = parse(line, (size_t)len, NULL);
		print_message("Severity=%s\n", t[i].sev);
		check_str("severity", t[i].want, ab_severity_name(ev->severity));
		ab_event_free(ev);
	}
}

/* AB_SYSLOG_ID_LATER leaves the id empty, and ab_syslog_event_id gives the
 * id ab_syslog_parse would have (the listener hashes only the lines it
 * keeps): raw line and peer, also for a repaired line and without a peer. */
static void test_id_later(void **state)
{
	static const struct {
		const char *line;
		size_t len;
		const char *peer;
	} t[] = {
		{ "<34>1 2026-11-23T09:00:00Z host app - - - hello", 0, "192.0.2.1" },
		{ "<38>Nov 23 09:00:00 bastion sshd[1]: Failed password", 0, NULL },
		{ "<132>fw CEF:0|V|P|1|2|blocked|9|src=10.0.0.5", 0, "fw.example" },
		{ "<13>bad \xff\xfe utf-8 and a NUL \0 inside", 35, "peer" },
		{ "<13>a line with its CR LF\r\n", 0, "peer" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
		size_t len = t[i].len ? t[i].len : strlen(t[i].line);
		struct ab_event *a = parse(t[i].line, len, t[i].peer), *b = ab_event_new();
		char err[128] = "", *ja, *jb;

		assert_non_null(b);
		assert_int_equal(ab_syslog_parse_ex(t[i].line, len, t[i].peer, NOW_MS,
			AB_SYSLOG_ID_LATER, b, err, sizeof err), 0);
		assert_string_equal(b->id, "");
		ab_syslog_event_id(b, t[i].line, len, t[i].peer);
		assert_string_equal(a->id, b->id);
		ja = ab_event_dumps(a);
		jb = ab_event_dumps(b);
		assert_non_null(ja);
		assert_non_null(jb);
		assert_string_equal(ja, jb);   /* the rest of the event is the same */
		free(ja);
		free(jb);
		ab_event_free(a);
		ab_event_free(b);
	}
}

/* Every key of a line's fields as ab_syslog_view_field reads it from the
 * scan: the same text as the made field, or "cannot tell"; a key the
 * fields lack reads as absent (or "cannot tell"), never as a value. */
static int view_field_agrees(const char *line, size_t len)
{
	static struct ab_syslog_view v;
	struct ab_event *ev = ab_event_new();
	char err[128], buf[4096];
	const char *key, *t;
	json_t *val;
	int told = 0;

	assert_non_null(ev);
	ab_syslog_scan(line, len, 1705312800000LL, &v);
	if (ab_syslog_view_event(&v, NULL, AB_SYSLOG_FIELDS_LATER, ev, err, sizeof err) != 1) {
		ab_event_free(ev);
		return 0;           /* nothing left out */
	}
	assert_int_equal(ab_syslog_view_fields(&v, ev), 0);
	json_object_foreach(ev->fields, key, val) {
		int r = ab_syslog_view_field(&v, key, buf, sizeof buf, &t);

		if (r < 0)
			continue;
		if (r == 0 || !json_is_string(val) || strcmp(t, json_string_value(val)))
			fail_msg("%s: field '%s' is '%s', the scan says %s'%s' in: %.*s", __func__,
				 key, json_is_string(val) ? json_string_value(val) : "?",
				 r ? "" : "absent ", r ? t : "", (int)len, line);
		told++;
	}
	/* keys the fields lack */
	static const char *const absent[] = { "cef.nope", "cef.ext.nope", "cef.ext.act",
		"leef.nope", "leef.ext.cat", "cef.label.nope", "cef.", "leef." };
	for (size_t i = 0; i < sizeof absent / sizeof absent[0]; i++)
		if (!json_object_get(ev->fields, absent[i]) &&
		    ab_syslog_view_field(&v, absent[i], buf, sizeof buf, &t) > 0)
			fail_msg("%s: '%s' is not a field, the scan says '%s' in: %.*s", __func__,
				 absent[i], t, (int)len, line);
	ab_event_free(ev);
	return told;
}

/* A JSON payload's empty "time" is no time: occurred_at stays unset (it
 * took an uninitialized value before, found by fuzz_syslog). */
static void test_json_empty_time(void **state)
{
	static const char *const lines[] = {
		"{\"output\":\"x\",\"time\":\"\"}",
		"<13>app: {\"timestamp\":\"\",\"msg\":\"m\"}",
		"<13>app: @cee: {\"@timestamp\":\"\"}",
	};
	char err[128];

	(void)state;
	for (size_t i = 0; i < sizeof lines / sizeof lines[0]; i++) {
		struct ab_event *ev = ab_event_new();

		assert_non_null(ev);
		assert_int_equal(ab_syslog_parse(lines[i], strlen(lines[i]), NULL, 1705312800000LL, ev,
			err, sizeof err), 0);
		assert_int_equal(ev->occurred_at, 0);
		ab_event_free(ev);
	}
}

static void test_view_field(void **state)
{
	static const char *const made[] = {
		"<132>Nov 23 09:00:00 fw CEF:0|A|B|1|7|N|9|dhost=web\\=01 act=a act=b msg=x\\\\y",
		"<132>Nov 23 09:00:00 fw CEF:0|A\\|V|B|1|7|N|9|name=ext vendor=v ext.k=1 cnt=3",
		"<132>Nov 23 09:00:00 fw CEF:0|A|B|1|7|N|9|cs1Label=url cs1=https://x/1 "
		"dst=10.0.0.1",
		"<130>Nov 23 09:00:00 fw LEEF:1.0|Trend|DS|1|4000000|cat=malware\tsev=9\tvendor=x",
		"<130>Nov 23 09:00:00 fw LEEF:2.0|V|P|1|E|^|a=1^b=2^a=3",
		"<13>1 2026-11-23T09:00:00Z h app - - - CEF:0|A|B|1|7|N|3|src=1.2.3.4 spt=5",
		"<13>1 2026-11-23T09:00:00Z h app - - [x@1 a=\"b\"] CEF:0|A|B|1|7|N|3|src=1.2.3.4",
	};
	char pat[1024];
	glob_t gl;
	int told = 0;

	(void)state;
	for (size_t i = 0; i < sizeof made / sizeof made[0]; i++)
		told += view_field_agrees(made[i], strlen(made[i]));
	snprintf(pat, sizeof pat, "%s/tests/data/corpus/*/*.log", tu_srcdir());
	assert_int_equal(glob(pat, 0, NULL, &gl), 0);
	for (size_t i = 0; i < gl.gl_pathc; i++) {
		size_t n;
		char *text = ab_read_file(gl.gl_pathv[i], 1 << 20, &n);

		assert_non_null(text);
		for (size_t a = 0, b; a < n; a = b + 1) {
			const char *nl = memchr(text + a, '\n', n - a);

			b = nl ? (size_t)(nl - text) : n;
			if (b > a)
				told += view_field_agrees(text + a, b - a);
		}
		free(text);
	}
	globfree(&gl);
	assert_true(told >= 300);    /* most CEF and LEEF keys are read from the scan */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table),
		cmocka_unit_test(test_yearless),
		cmocka_unit_test(test_id_stable),
		cmocka_unit_test(test_hostile),
		cmocka_unit_test(test_hostile_content),
		cmocka_unit_test(test_long_cef),
		cmocka_unit_test(test_leef_sev),
		cmocka_unit_test(test_cef_sev),
		cmocka_unit_test(test_id_later),
		cmocka_unit_test(test_view_field),
		cmocka_unit_test(test_json_empty_time),
	};

	return cmocka_run_group_tests_name("syslog", tests, NULL, NULL);
}
