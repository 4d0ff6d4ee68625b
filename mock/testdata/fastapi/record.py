"""Records what the real FastAPI stack answers to the request corpus.

    PYTHONPATH=<dir with fastapi, starlette, anyio, annotated_doc> python3 record.py

writes golden.jsonl beside this file: one JSON object per request, in corpus
order, with the request sent and the response received (status, the headers
that matter, body); and golden_outside.jsonl, the same for paths outside
both APIs' routes (corpus.outside_corpus). The requests run in order against one app, as a client
would send them; "$CONV" in a path or body stands for the conversation the
most recent request created ("$CONV" is kept in the golden file, so the
replay substitutes its own). No network: the app is called as an ASGI
application, in process.
"""
import asyncio
import base64
import json
import os
import sys

import fastapi
import pydantic
import pydantic_core
import starlette

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import app as reference  # noqa: E402
from corpus import corpus, outside_corpus  # noqa: E402

KEPT_HEADERS = ("content-type", "www-authenticate", "allow", "location", "retry-after")


async def call(asgi, method, path, headers, body):
    raw_path, _, query = path.partition("?")
    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": method,
        "scheme": "http", "path": raw_path, "raw_path": raw_path.encode(), "query_string": query.encode(),
        "root_path": "", "headers": [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in headers],
        "server": ("testserver", 80), "client": ("127.0.0.1", 50000), "state": {},
    }
    if not any(k.lower() == "host" for k, _ in headers):
        scope["headers"].insert(0, (b"host", b"testserver"))
    sent = False

    async def receive():
        nonlocal sent
        if sent:
            await asyncio.sleep(3600)
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    out = {"status": None, "headers": [], "body": b""}

    async def send(message):
        if message["type"] == "http.response.start":
            out["status"] = message["status"]
            out["headers"] = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in message.get("headers", [])]
        elif message["type"] == "http.response.body":
            out["body"] += message.get("body", b"")

    try:
        await asgi(scope, receive, send)
    except Exception:
        pass  # ServerErrorMiddleware has sent its 500 and re-raises for the server to log
    return out


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    reference.preload()
    for cases, name in [(corpus(), "golden.jsonl"), (outside_corpus(), "golden_outside.jsonl")]:
        lines = record(cases)
        with open(os.path.join(here, name), "w", encoding="utf-8") as f:
            f.write("\n".join(lines) + "\n")
        print(f"{len(lines)} requests recorded in {name}", file=sys.stderr)
    with open(os.path.join(here, "VERSIONS"), "w") as f:
        f.write(f"fastapi {fastapi.__version__}\nstarlette {starlette.__version__}\npydantic {pydantic.VERSION}\n"
                f"pydantic-core {pydantic_core.__version__}\npython {sys.version.split()[0]}\n")


def record(cases):
    conv = None
    lines = []
    for case in cases:
        path = case["path"].replace("$CONV", conv or "conv_unset")
        body = case.get("body", b"")
        if isinstance(body, str):
            body = body.encode("utf-8", "surrogatepass")
        body = body.replace(b"$CONV", (conv or "conv_unset").encode())
        res = asyncio.run(call(reference.app, case["method"], path, case.get("headers", []), body))
        if res["status"] == 201 and case.get("creates"):
            conv = json.loads(res["body"])[0]["conversation_id"]
        headers = {k.lower(): v for k, v in res["headers"] if k.lower() in KEPT_HEADERS}
        rec = {
            "name": case["name"], "method": case["method"], "path": case["path"], "headers": case.get("headers", []),
            "body_b64": base64.b64encode(case.get("body", b"") if isinstance(case.get("body", b""), bytes) else case["body"].encode("utf-8", "surrogatepass")).decode(),
            "creates": bool(case.get("creates")),
            "status": res["status"], "response_headers": headers, "response_body": res["body"].decode("utf-8", "replace"),
        }
        lines.append(json.dumps(rec, ensure_ascii=False))
    return lines


if __name__ == "__main__":
    main()
