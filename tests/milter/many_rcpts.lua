-- many_rcpts.lua - 1500 ordinary recipients then the alert address: the
-- alert is still recognised (ordinary recipients are only counted).  The
-- same without the alert address is released with ACCEPT at DATA.
dofile(os.getenv("AB_MILTER_DIR") .. "/common.lua")
local conn = open()
if mt.mailfrom(conn, "scanner@example.net") ~= nil then fail("mailfrom") end
for i = 1, 1500 do
	if mt.rcptto(conn, "user" .. i .. "@example.com") ~= nil then fail("rcptto " .. i) end
end
if mt.data(conn) ~= nil then fail("data") end
expect(conn, SMFIR_ACCEPT, "DATA with only ordinary recipients")
mt.disconnect(conn)
conn = open()
if mt.mailfrom(conn, "scanner@example.net") ~= nil then fail("mailfrom") end
for i = 1, 1500 do
	if mt.rcptto(conn, "user" .. i .. "@example.com") ~= nil then fail("rcptto " .. i) end
end
if mt.rcptto(conn, "alerts@example.com") ~= nil then fail("rcptto alerts") end
if mt.data(conn) ~= nil then fail("data") end
expect(conn, SMFIR_CONTINUE, "DATA with the alert recipient last")
if mt.header(conn, "Subject", "critical: many recipients") ~= nil then fail("header") end
if mt.header(conn, "Message-ID", "<many@example.net>") ~= nil then fail("header") end
if mt.eoh(conn) ~= nil then fail("eoh") end
if mt.bodystring(conn, "x\r\n") ~= nil then fail("body") end
if mt.eom(conn) ~= nil then fail("eom") end
expect(conn, SMFIR_CONTINUE, "EOM")
mt.disconnect(conn)
