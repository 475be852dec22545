-- abort.lua - abort in the middle of an alert message; the next message
-- on the same connection is processed normally (per-message state freed).
dofile(os.getenv("AB_MILTER_DIR") .. "/common.lua")
local conn = open()
if mt.mailfrom(conn, "scanner@example.net") ~= nil then fail("mailfrom") end
expect(conn, SMFIR_CONTINUE, "MAIL of an alert")
if mt.rcptto(conn, "alerts@example.com") ~= nil then fail("rcptto") end
if mt.data(conn) ~= nil then fail("data") end
expect(conn, SMFIR_CONTINUE, "DATA of an alert")
if mt.header(conn, "Subject", "half an alert") ~= nil then fail("header") end
if mt.abort(conn) ~= nil then fail("abort") end
-- second message, complete
if mt.mailfrom(conn, "scanner@example.net") ~= nil then fail("mailfrom 2") end
if mt.rcptto(conn, "alerts@example.com") ~= nil then fail("rcptto 2") end
if mt.data(conn) ~= nil then fail("data 2") end
if mt.header(conn, "Subject", "HIGH: second alert after abort") ~= nil then fail("header 2") end
if mt.header(conn, "Message-ID", "<abort-2@example.net>") ~= nil then fail("header 2") end
if mt.eoh(conn) ~= nil then fail("eoh 2") end
if mt.bodystring(conn, "body\r\n") ~= nil then fail("body 2") end
if mt.eom(conn) ~= nil then fail("eom 2") end
expect(conn, SMFIR_CONTINUE, "EOM of the second alert")
if not mt.eom_check(conn, MT_HDRINSERT, "X-Alertbridge-Event") and
   not mt.eom_check(conn, MT_HDRADD, "X-Alertbridge-Event") then
	fail("X-Alertbridge-Event not added")
end
mt.disconnect(conn)
