-- no_message.lua - connections without a message: connect and quit;
-- connect, MAIL, quit (the per-message state is freed on close); and a
-- client outside every source's networks is released at CONNECT (every
-- source names networks: the whole session) and again at MAIL FROM.
dofile(os.getenv("AB_MILTER_DIR") .. "/common.lua")
local conn = open()
mt.disconnect(conn)
conn = open()
expect(conn, SMFIR_CONTINUE, "connect from a client a source takes")
if mt.mailfrom(conn, "scanner@example.net") ~= nil then fail("mailfrom") end
expect(conn, SMFIR_CONTINUE, "MAIL from a possible source")
mt.disconnect(conn)
conn = open("192.0.2.77")
expect(conn, SMFIR_ACCEPT, "connect from a client no source takes (session released)")
if mt.mailfrom(conn, "scanner@example.net") ~= nil then fail("mailfrom") end
expect(conn, SMFIR_ACCEPT, "MAIL from a client no source takes (released early)")
mt.disconnect(conn)
