-- missing_headers.lua - an alert message without a single header (no
-- Subject, From, Date, Message-ID): still an event (defaults), no crash.
dofile(os.getenv("AB_MILTER_DIR") .. "/common.lua")
local conn = open()
if mt.mailfrom(conn, "scanner@example.net") ~= nil then fail("mailfrom") end
if mt.rcptto(conn, "alerts@example.com") ~= nil then fail("rcptto") end
if mt.data(conn) ~= nil then fail("data") end
expect(conn, SMFIR_CONTINUE, "DATA")
if mt.eoh(conn) ~= nil then fail("eoh") end
if mt.bodystring(conn, "Severity: high\r\nHost: headless01\r\n") ~= nil then fail("body") end
if mt.eom(conn) ~= nil then fail("eom") end
expect(conn, SMFIR_CONTINUE, "EOM without headers")
mt.disconnect(conn)
