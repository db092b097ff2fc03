-- wrk script for `make bench`: every request is POST /messages with a small GSM-7 text to the
-- local handset. No response() hook: wrk then skips handing each answer to Lua, and its summary
-- ("Non-2xx or 3xx responses") already separates the 202s from the rest.
wrk.method = "POST"
wrk.path = "/messages"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"to":"+15550100","text":"bench: the quick brown fox jumps over the lazy dog"}'
