"""Writes the OpenAPI document FastAPI generates for app.py, as its
/openapi.json serves it (compact JSON, keys in FastAPI's order), to
mock/openapi/workspace.json, which msgmock serves byte for byte.

    PYTHONPATH=<dir with fastapi, starlette, anyio, annotated_doc> python3 openapi.py
"""
import asyncio
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import app as reference  # noqa: E402

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "openapi", "workspace.json")


async def fetch():
    """GET /openapi.json from the app, as a client would."""
    body, status = [], []

    async def receive():
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message):
        if message["type"] == "http.response.start":
            status.append(message["status"])
        elif message["type"] == "http.response.body":
            body.append(message.get("body", b""))

    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "GET",
             "scheme": "http", "path": "/openapi.json", "raw_path": b"/openapi.json", "query_string": b"",
             "root_path": "", "headers": [(b"host", b"testserver")], "client": ("127.0.0.1", 1),
             "server": ("testserver", 80)}
    await reference.app(scope, receive, send)
    assert status == [200], status
    return b"".join(body)


data = asyncio.run(fetch())
with open(OUT, "wb") as f:
    f.write(data)
print(f"{len(data)} bytes to {os.path.normpath(OUT)}")
