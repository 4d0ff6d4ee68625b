"""The request corpus record.py sends to the reference app (and the Go
replay to msgmock). Each case: name, method, path, headers, body (str or
bytes), and creates=True when its 201 starts the conversation "$CONV" names.
"""
import json
from urllib.parse import quote

KEY = "sk_test_51_fakeapikey123456"
AUTH = [("Authorization", "Bearer " + KEY)]
JSON = [("Content-Type", "application/json")]
H = AUTH + JSON
FIXTURE_CONV = "conv_5f2a9c0e7b1d4a36"

VALUES = {  # JSON values of every type, for each field
    "str": '"text"', "empty": '""', "int": "5", "zero": "0", "one": "1", "neg": "-1", "float": "1.5", "floatint": "1.0",
    "true": "true", "false": "false", "null": "null", "list": "[]", "liststr": '["a"]', "dict": "{}", "dictx": '{"a":1}',
    "bigint": "123456789012345678901234567890", "exp": "1e3",
}
FIELDS = ["content", "sender_id", "created_at", "role", "message_type", "tool_calls", "parent_message_id", "tags", "meta_data", "attachments"]


def post(name, body, headers=H, creates=False, path="/api/v1/messages"):
    return {"name": name, "method": "POST", "path": path, "headers": headers, "body": body, "creates": creates}


def get(name, path, headers=AUTH):
    return {"name": name, "method": "GET", "path": path, "headers": headers, "body": b""}


def content(**fields):
    base = {"content": '"hi"', "sender_id": '"u"'}
    base.update(fields)
    return "{" + ",".join(f'"{k}":{v}' for k, v in base.items() if v is not None) + "}"


def corpus():
    cases = []
    add = cases.append
    seed = '{"content":{"content":"<string>","sender_id":"<string>","created_at":"2023-11-07T05:31:56Z","role":"user","message_type":"text","tool_calls":[{}],"parent_message_id":"<string>","tags":["<string>"],"meta_data":{},"attachments":[{}]},"conversation_id":"' + FIXTURE_CONV + '","enable_memories":false}'
    add(post("seed example", seed))
    add(post("minimal, new conversation", '{"content":{"content":"hi","sender_id":"u"}}', creates=True))
    add(post("to the new conversation", '{"content":{"content":"again","sender_id":"u"},"conversation_id":"$CONV"}'))

    # Every content field with every JSON type.
    for field in FIELDS:
        for vname, v in VALUES.items():
            add(post(f"content.{field}={vname}", '{"content":' + content(**{field: v}) + ',"conversation_id":"' + FIXTURE_CONV + '"}'))
        add(post(f"content.{field} missing", '{"content":' + content(**{field: None}) + ',"conversation_id":"' + FIXTURE_CONV + '"}'))
    for vname, v in VALUES.items():
        add(post(f"conversation_id={vname}", '{"content":{"content":"hi","sender_id":"u"},"conversation_id":' + v + '}'))
        add(post(f"enable_memories={vname}", '{"content":{"content":"hi","sender_id":"u"},"conversation_id":"' + FIXTURE_CONV + '","enable_memories":' + v + '}'))
        add(post(f"content={vname}", '{"content":' + v + '}'))
        add(post(f"body={vname}", v))
    for v in ['"yes"', '"no"', '"on"', '"off"', '"t"', '"f"', '"y"', '"n"', '"TRUE"', '"False"', '"1"', '"0"', '"maybe"', "2", "0.0", "-0.0", "1e0", "0.5", '" true"']:
        add(post(f"enable_memories={v}", '{"content":{"content":"hi","sender_id":"u"},"conversation_id":"' + FIXTURE_CONV + '","enable_memories":' + v + '}'))
    # List items.
    for field, items in [("tags", '["a",1,null,true,{},[]]'), ("tool_calls", '[{},1,"x",null,[],{"a":1}]'), ("attachments", '[{"x":1},"y",2]')]:
        add(post(f"content.{field} bad items", '{"content":' + content(**{field: items}) + ',"conversation_id":"' + FIXTURE_CONV + '"}'))
    add(post("many problems at once", '{"content":{"content":1,"sender_id":null,"created_at":"x","role":[],"tags":"t","meta_data":[],"tool_calls":{}},"enable_memories":"maybe","conversation_id":5}'))
    add(post("values come back as sent", '{"content":{"content":"line\\u2028sep\\u2029end","sender_id":"u","parent_message_id":"","tags":[],"meta_data":{"n":1.50,"e":1e2,"big":123456789012345678901234567890,"s":"\\u00e9"},"tool_calls":[],"attachments":[]},"conversation_id":"' + FIXTURE_CONV + '"}'))

    # Datetimes.
    for dt in ["2023-11-07T05:31:56Z", "2023-11-07T05:31:56z", "2023-11-07 05:31:56", "2023-11-07t05:31:56", "2023-11-07T05:31:56+02:00",
               "2023-11-07T05:31:56-05:30", "2023-11-07T05:31:56+02", "2023-11-07T05:31:56+0200", "2023-11-07T05:31:56.1Z",
               "2023-11-07T05:31:56.123456Z", "2023-11-07T05:31:56.1234567Z", "2023-11-07T05:31:56.123456789+01:00", "2023-11-07T05:31Z",
               "2023-11-07T05:31", "2023-11-07T05", "2023-11-07", "2023-11-7", "2023/11/07", "2023-13-07", "2023-02-29", "2024-02-29",
               "2023-11-07T24:00:00Z", "2023-11-07T23:59:60Z", "2023-11-07T05:31:56ZZ", "2023-11-07T05:31:56 ", " 2023-11-07T05:31:56",
               "20231107T053156Z", "0000-01-01T00:00:00Z", "9999-12-31T23:59:59Z", "1700000000", "1700000000.5", "-1", "", "now", "2023-11-07T05:31:56.Z",
               "2023-11-07T05:31:56+24:00", "2023-11-07T05:31:56+23:59", "2023-11-07T05:61:56Z"]:
        add(post(f"created_at={dt!r}", '{"content":' + content(created_at=json.dumps(dt)) + ',"conversation_id":"' + FIXTURE_CONV + '"}'))
    for n in ["0", "1700000000", "1700000000000", "1700000000.123", "-1700000000", "1e20", "-1e20", "1e10", "2e10", "-2e10", "253402300800", "-62135596801", "1.5", "true", "false"]:
        add(post(f"created_at={n}", '{"content":' + content(created_at=n) + ',"conversation_id":"' + FIXTURE_CONV + '"}'))

    # JSON that is not JSON, and JSON Python accepts.
    for name, body in [
        ("trailing comma object", '{"content":{"content":"hi","sender_id":"u",}}'), ("trailing comma array", '{"content":{"content":"hi","sender_id":"u","tags":["a",]}}'),
        ("single quotes", "{'content':1}"), ("unterminated", '{"content":{"content":"hi"'), ("extra data", '{"content":{}} {}'),
        ("missing comma", '{"a":1 "b":2}'), ("missing colon", '{"a" 1}'), ("bare word", "hello"), ("unclosed string", '{"a":"b'),
        ("bad escape", '{"a":"\\q"}'), ("control char in string", '{"a":"x\x01y"}'), ("leading zero", '{"a":01}'), ("lone minus", '{"a":-}'),
        ("NaN in meta_data", '{"content":{"content":"hi","sender_id":"u","meta_data":{"x":NaN}},"conversation_id":"' + FIXTURE_CONV + '"}'),
        ("Infinity in meta_data", '{"content":{"content":"hi","sender_id":"u","meta_data":{"x":Infinity,"y":-Infinity}},"conversation_id":"' + FIXTURE_CONV + '"}'),
        ("1e400 in meta_data", '{"content":{"content":"hi","sender_id":"u","meta_data":{"x":1e400,"y":-1e400}},"conversation_id":"' + FIXTURE_CONV + '"}'),
        ("NaN as content", '{"content":{"content":NaN,"sender_id":"u"}}'), ("Infinity as enable_memories", '{"content":{"content":"hi","sender_id":"u"},"enable_memories":Infinity}'),
        ("1e400 as created_at", '{"content":{"content":"hi","sender_id":"u","created_at":1e400}}'), ("NaN body", "NaN"), ("-Infinity body", "-Infinity"),
        ("whitespace only", "   "), ("null", "null"), ("empty object", "{}"), ("nested arrays", "[[[[]]]]"),
        ("deep nesting", "[" * 3000 + "]" * 3000), ("huge int", '{"a":' + "9" * 4301 + "}"), ("huge int in content", '{"content":{"content":' + "1" * 5000 + ',"sender_id":"u"}}'),
        ("int of 4300 digits", '{"content":' + "7" * 4300 + "}"), ("duplicate keys", '{"content":{"content":"a","content":"b","sender_id":"u"},"conversation_id":"' + FIXTURE_CONV + '"}'),

        ("surrogate pair", '{"content":{"content":"\\ud83d\\ude00","sender_id":"u"},"conversation_id":"' + FIXTURE_CONV + '"}'),
    ]:
        add(post("json: " + name, body))
    # Stored, then unserialisable (FastAPI answers 500): kept out of the
    # conversations the rest of the corpus lists.
    add(post("json: lone surrogate", '{"content":{"content":"\\ud800","sender_id":"u"}}', headers=H + [("X-Workspace-Id", "wsp_scratch")]))
    add(post("json: lone surrogate in meta_data", '{"content":{"content":"x","sender_id":"u","meta_data":{"k":"\\udc00"}}}', headers=H + [("X-Workspace-Id", "wsp_scratch")]))
    add(post("empty body", b""))
    add(post("invalid UTF-8", b'{"content":{"content":"\xff\xfe","sender_id":"u"}}'))
    add(post("invalid UTF-8 alone", b"\xff"))
    add(post("UTF-8 BOM", b"\xef\xbb\xbf" + content().encode()))
    valid = '{"content":{"content":"hi","sender_id":"u"},"conversation_id":"' + FIXTURE_CONV + '"}'
    for enc in ["utf-16", "utf-16-le", "utf-16-be", "utf-32", "utf-32-le", "utf-32-be"]:
        add(post("body in " + enc, valid.encode(enc)))
    add(post("NUL byte", b'{"content":{"content":"a\x00b","sender_id":"u"}}'))

    # Content types.
    for ct in ["text/plain", "application/x-www-form-urlencoded", "application/vnd.api+json", "application/json; charset=utf-8",
               "APPLICATION/JSON", "application/json-patch+json", "multipart/form-data; boundary=x", "application/jsonx", "", "json"]:
        add(post(f"content-type {ct!r}", valid, headers=AUTH + [("Content-Type", ct)]))
    add(post("no content-type", valid, headers=AUTH))
    add(post("no content-type, not JSON", "nope", headers=AUTH))
    add(post("text/plain, not JSON", "nope", headers=AUTH + [("Content-Type", "text/plain")]))

    # Auth.
    for name, hs in [
        ("no auth", JSON), ("Bearer empty", [("Authorization", "Bearer")] + JSON), ("Bearer space", [("Authorization", "Bearer ")] + JSON),
        ("bearer lowercase", [("Authorization", "bearer " + KEY)] + JSON), ("BEARER", [("Authorization", "BEARER " + KEY)] + JSON),
        ("Basic", [("Authorization", "Basic dTpw")] + JSON), ("Token scheme", [("Authorization", "Token " + KEY)] + JSON),
        ("key alone in Authorization", [("Authorization", KEY)] + JSON), ("Bearer two spaces", [("Authorization", "Bearer  " + KEY)] + JSON),
        ("x-api-key", [("x-api-key", KEY)] + JSON), ("X-API-KEY", [("X-API-KEY", KEY)] + JSON), ("x-api-key empty", [("x-api-key", "")] + JSON),
        ("Basic and x-api-key", [("Authorization", "Basic dTpw"), ("x-api-key", KEY)] + JSON),
        ("Bearer empty and x-api-key", [("Authorization", "Bearer"), ("x-api-key", KEY)] + JSON),
        ("expired Bearer", [("Authorization", "Bearer sk_test_expired")] + JSON), ("expired x-api-key", [("x-api-key", "sk_test_expired")] + JSON),
        ("expired Bearer, good x-api-key", [("Authorization", "Bearer sk_test_expired"), ("x-api-key", KEY)] + JSON),
        ("unknown key", [("Authorization", "Bearer sk_anything")] + JSON),
    ]:
        add(post("auth: " + name, valid, headers=hs))
        add(get("auth GET: " + name, "/api/v1/messages?conversation_id=" + FIXTURE_CONV, headers=hs))
    add(post("auth after JSON errors", "{bad", headers=JSON))
    add(post("auth before validation", "{}", headers=JSON))

    # Workspaces.
    for ws in ["wsp_default", "wsp_forbidden", "wsp_acme", "wsp_other", "", " wsp_default "]:
        add(post(f"workspace {ws!r}", valid, headers=H + [("X-Workspace-Id", ws)]))
        add(get(f"workspace GET {ws!r}", "/api/v1/messages?conversation_id=" + FIXTURE_CONV, headers=AUTH + [("X-Workspace-Id", ws)]))
    add(post("new conversation in wsp_acme", '{"content":{"content":"hi","sender_id":"u"}}', headers=H + [("X-Workspace-Id", "wsp_acme")], creates=True))
    add(get("wsp_acme conversation from wsp_default", "/api/v1/messages?conversation_id=$CONV"))
    add(get("wsp_acme conversations", "/api/v1/conversations", headers=AUTH + [("X-Workspace-Id", "wsp_acme")]))
    add(post("unknown conversation", '{"content":{"content":"hi","sender_id":"u"},"conversation_id":"conv_nope"}'))

    # Query parameters.
    list_base = "/api/v1/messages?conversation_id=" + FIXTURE_CONV
    for p in ["skip", "limit"]:
        for v in ["0", "1", "2", "1.0", "2.0", "1.5", "1_0", " 5", "5 ", "+5", "-0", "-1", "0x10", "1e2", "", "abc", "1000", "1001",
                  "99999999999999999999", "-99999999999999999999", "9" * 4301, "٣", "00001", "true"]:
            add(get(f"{p}={v!r}", list_base + f"&{p}={quote(v, safe='')}"))
            if p == "limit":
                add(get(f"conversations limit={v!r}", f"/api/v1/conversations?limit={quote(v, safe='')}"))
    add(get("skip and limit both bad", list_base + "&skip=-1&limit=0"))
    add(get("repeated limit", list_base + "&limit=1&limit=2"))
    for v in ["created_at", "updated_at", "sent_at", "id", "", "CREATED_AT"]:
        add(get(f"order_by={v!r}", list_base + f"&order_by={quote(v, safe='')}"))
    for v in ["asc", "desc", "ASC", "up", ""]:
        add(get(f"order_direction={v!r}", list_base + f"&order_direction={v}"))
    add(get("no conversation_id", "/api/v1/messages"))
    add(get("empty conversation_id", "/api/v1/messages?conversation_id="))
    add(get("unknown conversation_id", "/api/v1/messages?conversation_id=conv_nope"))
    add(get("everything wrong", "/api/v1/messages?skip=x&limit=y&order_by=z&order_direction=w"))
    add(get("message by id", "/api/v1/messages/msg_0a1b2c3d4e5f6071"))
    add(get("message by id, other workspace", "/api/v1/messages/msg_0a1b2c3d4e5f6071")
        | {"headers": AUTH + [("X-Workspace-Id", "wsp_acme")]})
    add(get("unknown message", "/api/v1/messages/msg_nope"))
    add(get("conversations", "/api/v1/conversations"))
    add(get("conversations skip", "/api/v1/conversations?skip=1"))

    # sent_at ordering by instant, not text.
    add(post("ordering: new conversation", '{"content":{"content":"first","sender_id":"u","created_at":"2023-11-07T10:00:00+02:00"}}', creates=True))
    add(post("ordering: second", '{"content":{"content":"second","sender_id":"u","created_at":"2023-11-07T09:30:00Z"},"conversation_id":"$CONV"}'))
    add(post("ordering: third", '{"content":{"content":"third","sender_id":"u","created_at":"2023-11-07T03:00:00-05:00"},"conversation_id":"$CONV"}'))
    add(post("ordering: naive", '{"content":{"content":"naive","sender_id":"u","created_at":"2023-11-07T08:45:00"},"conversation_id":"$CONV"}'))
    for d in ["asc", "desc"]:
        add(get(f"ordering: sent_at {d}", f"/api/v1/messages?conversation_id=$CONV&order_by=sent_at&order_direction={d}"))
    add(get("ordering: skip 1 limit 2", "/api/v1/messages?conversation_id=$CONV&order_by=sent_at&skip=1&limit=2"))

    # Routes and methods.
    for m in ["PUT", "DELETE", "PATCH", "HEAD", "OPTIONS"]:
        add({"name": f"{m} /api/v1/messages", "method": m, "path": "/api/v1/messages", "headers": AUTH, "body": b""})
        add({"name": f"{m} message by id", "method": m, "path": "/api/v1/messages/msg_0a1b2c3d4e5f6071", "headers": AUTH, "body": b""})
        add({"name": f"{m} /api/v1/conversations", "method": m, "path": "/api/v1/conversations", "headers": AUTH, "body": b""})
    for path in ["/api/v1/messages/", "/api/v1/conversations/", "/api/v1/messages/msg_0a1b2c3d4e5f6071/", "/api/v1/messages/?conversation_id=" + FIXTURE_CONV]:
        add(get("trailing slash GET " + path, path))
        add(post("trailing slash POST " + path, valid, path=path))
    for path in ["/api", "/api/", "/api/v1", "/api/v2/messages", "//api/v1/messages", "/api/v1/nothing", "/api/v1/messages/a/b", "/api/v1/Messages"]:
        add(get("unknown " + path, path))

    cases += bytes_and_depth()
    return cases


SCRATCH = H + [("X-Workspace-Id", "wsp_scratch")]  # what is stored here stays out of the listings above


def bytes_and_depth():
    """Bodies whose bytes are not UTF-8, nesting near Python's recursion
    limit and pydantic-core's, and floats as the two serialisers write them."""
    cases = []
    add = cases.append
    # Invalid UTF-8 inside a JSON string: json.loads decodes with
    # "surrogatepass", so a surrogate's three bytes are a lone surrogate.
    for name, body in [
        ("surrogate bytes in content", b'{"content":{"content":"a\xed\xa0\x80b","sender_id":"u"}}'),
        ("surrogate pair as two surrogates (CESU-8)", b'{"content":{"content":"\xed\xa0\xbd\xed\xb8\x80","sender_id":"u"}}'),
        ("surrogate bytes, sender_id missing", b'{"content":{"content":"\xed\xa0\x80"}}'),
        ("surrogate bytes in a meta_data key", b'{"content":{"content":"x","sender_id":"u","meta_data":{"k\xed\xb0\x80":1}}}'),
        ("surrogate escapes in meta_data keys", b'{"content":{"content":"x","sender_id":"u","meta_data":{"a\\ud800b\\udfff":1,"\\ude00\\ud83d":2}}}'),
        ("surrogate in a tool_calls key", b'{"content":{"content":"x","sender_id":"u","tool_calls":[{"\\udc00":[1]}],"attachments":[{"\xed\xa0\x80":{}}]}}'),
        ("surrogate in a nested meta_data key", b'{"content":{"content":"x","sender_id":"u","meta_data":{"a":{"\\udc00":1}}}}'),
        ("surrogate in a meta_data value", b'{"content":{"content":"x","sender_id":"u","meta_data":{"a":["\xed\xa0\x80"]}}}'),
        ("surrogate in tags", b'{"content":{"content":"x","sender_id":"u","tags":["\xed\xa0\x80"]}}'),
        ("surrogate in role", b'{"content":{"content":"x","sender_id":"u","role":"\\ud800"}}'),
        ("surrogate in parent_message_id", b'{"content":{"content":"x","sender_id":"u","parent_message_id":"\xed\xbf\xbf"}}'),
        ("surrogate in an unknown field", b'{"content":{"content":"x","sender_id":"u","extra":"\xed\xa0\x80"},"more":"\\ud800"}'),
        ("surrogate in conversation_id", b'{"content":{"content":"x","sender_id":"u"},"conversation_id":"\xed\xa0\x80"}'),
        ("surrogate in created_at", b'{"content":{"content":"x","sender_id":"u","created_at":"\xed\xa0\x80"}}'),
        ("surrogate bytes outside a string", b'{"content":\xed\xa0\x80}'),
        ("surrogate bytes, then a syntax error", b'{"content":{"content":"\xed\xa0\x80",}}'),
        ("real U+FFFD in a meta_data key", '{"content":{"content":"\ufffd","sender_id":"u","meta_data":{"\ufffd":"\ufffd"}}}'.encode()),
        ("0xff in a string", b'{"content":{"content":"\xff","sender_id":"u"}}'),
        ("overlong UTF-8", b'{"content":{"content":"\xc0\xaf","sender_id":"u"}}'),
        ("truncated UTF-8", b'{"content":{"content":"\xe2\x82","sender_id":"u"}}'),
        ("UTF-8 past U+10FFFF", b'{"content":{"content":"\xf4\x90\x80\x80","sender_id":"u"}}'),
        ("surrogate bytes cut short", b'{"content":{"content":"\xed\xa0","sender_id":"u"}}'),
        ("UTF-16 with a lone surrogate", '{"content":{"content":"X","sender_id":"u"}}'.encode("utf-16-le").replace("X".encode("utf-16-le"), b"\x00\xd8")),
        ("UTF-16 with a lone surrogate, syntax error", '{"content":{"content":"X",}}'.encode("utf-16-be").replace("X".encode("utf-16-be"), b"\xdc\x00")),
        ("UTF-16 of odd length", '{"content":1}'.encode("utf-16-le") + b"\x00"),
        ("UTF-32 with a surrogate", '{"content":{"content":"X","sender_id":"u"}}'.encode("utf-32-le").replace("X".encode("utf-32-le"), b"\x00\xd8\x00\x00")),
        ("UTF-32 past U+10FFFF", '{"content":{"content":"X","sender_id":"u"}}'.encode("utf-32-le").replace("X".encode("utf-32-le"), b"\x00\x00\x11\x00")),
    ]:
        add(post("bytes: " + name, body, headers=SCRATCH))
    # A body FastAPI does not parse (not a JSON Content-Type) is echoed as
    # text, which jsonable_encoder decodes strictly: 500 when not UTF-8.
    for name, ct, body in [
        ("text/plain, 0xff", "text/plain", b"\xff"),
        ("text/plain, surrogate bytes", "text/plain", b"ab\xed\xa0\x80"),
        ("form, invalid UTF-8", "application/x-www-form-urlencoded", b"a=\xc3\x28"),
        ("text/plain, UTF-8", "text/plain", "caf\u00e9 \U0001f600".encode()),
        ("text/plain, Latin-1", "text/plain", "caf\u00e9".encode("latin-1")),
        ("no Content-Type, invalid UTF-8", None, b'{"a":"\xff"}'),
    ]:
        headers = AUTH + ([("Content-Type", ct)] if ct else [])
        add(post("bytes: " + name, body, headers=headers))
    add(post("bytes: text/plain, 0xff, no auth", b"\xff", headers=[("Content-Type", "text/plain")]))
    add(post("bytes: text/plain, 0xff, forbidden workspace", b"\xff", headers=AUTH + [("Content-Type", "text/plain"), ("X-Workspace-Id", "wsp_forbidden")]))

    # Nesting. CPython's json scanner and FastAPI's echo of a 422's input
    # recurse per container, against Python's limit of 1,000 frames less
    # those below them: parsed up to 969 containers, echoed up to 964.
    for d in [900, 964, 965, 969, 970, 1000]:
        add(post(f"depth: body of {d} arrays", "[" * d + "]" * d, headers=SCRATCH))
    for d in [964, 965, 969]:
        add(post(f"depth: body of {d} objects", '{"a":' * d + "1" + "}" * d, headers=SCRATCH))
    add(post("depth: content of 964 arrays", '{"content":' + "[" * 964 + "]" * 964 + "}", headers=SCRATCH))
    add(post("depth: content of 968 arrays", '{"content":' + "[" * 968 + "]" * 968 + "}", headers=SCRATCH))
    add(post("depth: missing sender_id, meta_data 962 deep", '{"content":{"content":"x","meta_data":' + '{"a":' * 962 + "1" + "}" * 962 + "}}", headers=SCRATCH))
    add(post("depth: missing sender_id, meta_data 963 deep", '{"content":{"content":"x","meta_data":' + '{"a":' * 963 + "1" + "}" * 963 + "}}", headers=SCRATCH))
    # pydantic-core writes an Any value at most 255 values deep.
    def meta(field, value):
        return '{"content":{"content":"x","sender_id":"u","' + field + '":' + value + "}}"
    for d in [255, 256]:
        add(post(f"depth: meta_data value of {d} arrays", meta("meta_data", '{"x":' + "[" * d + "]" * d + "}"), headers=SCRATCH))
        add(post(f"depth: meta_data value of {d - 1} arrays and a number", meta("meta_data", '{"x":' + "[" * (d - 1) + "1" + "]" * (d - 1) + "}"), headers=SCRATCH))
        add(post(f"depth: meta_data value of {d} objects", meta("meta_data", '{"x":' + '{"a":' * (d - 1) + "{}" + "}" * (d - 1) + "}"), headers=SCRATCH))
        add(post(f"depth: tool_calls value of {d} arrays", meta("tool_calls", '[{"x":' + "[" * d + "]" * d + "}]"), headers=SCRATCH))
        add(post(f"depth: attachments value of {d} arrays", meta("attachments", '[{},{"x":' + "[" * d + "]" * d + "}]"), headers=SCRATCH))

    # Floats: pydantic-core writes a response (1e-7, 0.00001, 1e+16);
    # json.dumps writes a 422's input (Python's repr: 1e-07, 1e-05).
    floats = ["1e-7", "1.5e-7", "-1e-7", "1e-6", "9.99e-6", "1.2e-5", "1e-5", "-1e-5", "1e-4", "0.1", "1e0", "1E5", "123.456e5", "1e15",
              "9999999999999998.0", "1e16", "-1e16", "1.5e16", "1e22", "123456789012345678.0", "1e100", "1.7976931348623157e308", "1e-300",
              "2.2250738585072014e-308", "5e-324", "4.9e-324", "0.0", "-0.0", "0e0", "-0e0", "0.3333333333333333", "12345678901234567890.5"]
    listed = "[" + ",".join(floats) + "]"
    add(post("floats: written back in a 201", meta("meta_data", '{"f":' + listed + ',"g":{"h":-2.5e-8}}'), headers=SCRATCH))
    add(post("floats: tool_calls and attachments", '{"content":{"content":"x","sender_id":"u","tool_calls":[{"f":' + listed + '}],"attachments":[{"f":1e-7}]}}', headers=SCRATCH))
    add(post("floats: echoed in a 422", '{"content":{"content":"x","meta_data":{"f":' + listed + "}}}", headers=SCRATCH))
    add(post("floats: as content", '{"content":{"content":1e-7,"sender_id":1e16}}', headers=SCRATCH))
    add(post("floats: as enable_memories", '{"content":{"content":"x","sender_id":"u"},"enable_memories":1e-7}', headers=SCRATCH))
    add(post("floats: as created_at", '{"content":{"content":"x","sender_id":"u","created_at":1e-7}}', headers=SCRATCH))
    add(post("floats: ints as floats", meta("meta_data", '{"a":1.0,"b":100000000000000000000.0,"c":1e20,"d":-0,"e":-0.0e5,"f":10E-1}'), headers=SCRATCH))
    return cases


def outside_corpus():
    """Paths outside both APIs' routes, as the FastAPI service answers them
    (golden_outside.jsonl): the root of the host is the Workspace API's
    service, whose paths start there (/api/v1/…, /openapi.json)."""
    cases = []
    for method in ["GET", "POST", "PUT", "DELETE", "HEAD"]:
        for path in ["/API/v1/messages", "/openapi.JSON", "/", "/nothing", "/V1/messages", "/v2/messages", "/apiv1/messages", "/openapi.json/", "/favicon.ico"]:
            cases.append({"name": f"outside: {method} {path}", "method": method, "path": path, "headers": AUTH, "body": b""})
    return cases
