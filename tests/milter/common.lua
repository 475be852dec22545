-- common.lua - helpers for the alertbridge miltertest scripts: the milter
-- socket comes from the environment (AB_MILTER), fail() exits non-zero.
sock = os.getenv("AB_MILTER")
function fail(msg) mt.echo("FAIL: " .. msg); os.exit(1) end
function expect(conn, want, what)
	local r = mt.getreply(conn)
	if r ~= want then fail(what .. ": unexpected reply " .. tostring(r)) end
end
function open(ip)
	local conn = mt.connect(sock, 20, 0.2)
	if conn == nil then fail("cannot connect to " .. sock) end
	if mt.conninfo(conn, "client.test", ip or "127.0.0.1") ~= nil then fail("conninfo") end
	return conn
end
