"""The Workspace Messages API of SPEC section 3 as a real FastAPI service.

record.py runs it, in process and without a network, on the real FastAPI,
Starlette and Pydantic, and records its answers to corpus requests as golden
files; msgmock's TestFastAPIGoldens replays them. Its data matches
fixtures/ beside this file: the settings of msgmock's built-in fixtures
(auth mode any, sk_test_expired expired, the seed key's owner and workspace)
and one preloaded conversation.
"""
import hashlib
import uuid
from datetime import datetime, timezone
from typing import Any, Literal, Optional, Union

from fastapi import Depends, FastAPI, Header, HTTPException, Query, Request
from fastapi.responses import StreamingResponse
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel, Field, TypeAdapter

TOKENS = {
    "sk_test_51_fakeapikey123456": {"owner_id": "usr_82hd92", "workspace_id": "wsp_default", "expired": False},
    "sk_test_expired": {"owner_id": None, "workspace_id": None, "expired": True},
}
FORBIDDEN_WORKSPACES = {"wsp_forbidden"}


class MessageCreateRequest(BaseModel):
    """Schema for message creation request."""

    content: str
    sender_id: str
    created_at: Optional[datetime] = None
    role: str = "user"
    message_type: str = "text"
    tool_calls: Optional[list[dict[str, Any]]] = None
    parent_message_id: Optional[str] = None
    tags: Optional[list[str]] = None
    meta_data: dict[str, Any] = Field(default_factory=dict)
    attachments: Optional[list[dict[str, Any]]] = None


class MessagesCreate(BaseModel):
    """Schema for creating messages."""

    content: MessageCreateRequest
    conversation_id: Optional[str] = None
    enable_memories: Optional[bool] = False


class Message(BaseModel):
    conversation_id: str
    sender_id: str
    content: str
    workspace_id: str
    created_at: Optional[str] = None
    updated_at: Optional[str] = None
    id: str
    role: str = "user"
    tool_calls: Optional[list[dict[str, Any]]] = None
    message_type: str = "text"
    tags: Optional[list[str]] = None
    checksum: Optional[str] = None
    attachments: Optional[list[dict[str, Any]]] = None
    parent_message_id: Optional[str] = None
    meta_data: dict[str, Any] = Field(default_factory=dict)
    sent_at: Optional[datetime] = None
    owner_id: Optional[str] = None


class Conversation(BaseModel):
    id: str
    workspace_id: str
    created_at: str
    updated_at: str
    message_count: int


class Conversations(BaseModel):
    data: list[Conversation]
    total_count: int


class HTTPError(BaseModel):
    """What an HTTPException answers."""

    detail: str


class ValidationError(BaseModel):
    """One problem of a 422, as FastAPI renders Pydantic's (without "url")."""

    loc: list[Union[str, int]] = Field(title="Location")
    msg: str = Field(title="Message")
    type: str = Field(title="Error Type")
    input: Any = Field(None, title="Input")
    ctx: Optional[dict[str, Any]] = Field(None, title="Context")


class HTTPValidationError(BaseModel):
    """A 422: every problem of the request."""

    detail: list[ValidationError]


# Every status and body msgmock can send for an operation, declared so that
# /openapi.json documents them (FastAPI documents only 422 on its own);
# documentation only: this app raises 401, 403, 404 and 422, and FastAPI
# itself answers 400 for a body it cannot parse and Starlette 500 (text/plain)
# for an answer it cannot write. msgmock adds the body limit's 413, the 502
# and 504 of pass-through, and, on every operation, any status scripted by
# `Prefer: code=NNN` or a scenario rule: the statuses SPEC section 5 gives a
# default detail are listed by number, any other is `default`, all
# {"detail": "..."} but 422 (a validation error); a scripted 2xx carries the
# usual body. Declaring `default` stops FastAPI adding its own 422, hence
# HTTPValidationError above.
RETRY_AFTER = {"Retry-After": {"description": "seconds to wait", "schema": {"type": "string"}}}
ERRORS = {
    400: {"model": HTTPError, "description": "Bad Request: a body FastAPI cannot parse (`There was an error parsing the body`: bytes "
          "that do not decode, nesting past Python's recursion limit, an integer of more than 4,300 digits), an "
          "X-Mock-Scenario naming no scenario (`Unknown scenario: NAME`), or scripted (`Bad Request`)"},
    401: {"model": HTTPError, "description": "Not authenticated, or invalid authentication credentials",
          "headers": {"WWW-Authenticate": {"description": "Bearer", "schema": {"type": "string"}}}},
    403: {"model": HTTPError, "description": "Not authorized for this workspace (or scripted: `Forbidden`)"},
    404: {"model": HTTPError, "description": "Not found"},
    413: {"model": HTTPError, "description": "Request Entity Too Large: the body is larger than the limit (or scripted)"},
    422: {"model": HTTPValidationError, "description": "Validation Error (scripted: one `value_error` at `[\"body\"]`)"},
    429: {"model": HTTPError, "description": "Too Many Requests (scripted)", "headers": RETRY_AFTER},
    500: {"model": HTTPError, "description": "Internal Server Error: Starlette's text/plain answer when FastAPI cannot write "
          "the answer (a lone surrogate, NaN or nesting it cannot write back, a body that is not UTF-8 to echo), or "
          "{\"detail\": \"Internal Server Error\"} when scripted",
          "content": {"text/plain": {"schema": {"type": "string", "const": "Internal Server Error"}}}},
    502: {"model": HTTPError, "description": "Bad Gateway: passing through, the real service could not be reached (or scripted)"},
    503: {"model": HTTPError, "description": "Service Unavailable (scripted)", "headers": RETRY_AFTER},
    504: {"model": HTTPError, "description": "Gateway Timeout: passing through, the real service did not answer in time (or scripted)"},
    "default": {"model": HTTPError, "description": "Any other status scripted by `Prefer: code=NNN` or a scenario rule, "
                "with the rule's detail or the status's reason phrase (`I'm a teapot`)"},
}


def scripted_success(model) -> dict:
    """A rule's respond.status in 2xx, without a body of its own, replaces the route's status."""
    return {"2XX": {"model": model, "description": "A scenario rule's `respond.status` in 2xx replaces the status"}}


_ts = TypeAdapter(datetime)


def stamp(t: datetime) -> str:
    return _ts.dump_python(t, mode="json")


def parse(s: str) -> datetime:
    return _ts.validate_python(s)


app = FastAPI(title="Workspace Messages API")

# conversation id -> {"workspace_id", "created_at" (datetime), "messages": [dict]}
STORE: dict[str, dict] = {}


def preload():
    STORE.clear()
    created = parse("2026-03-15T14:00:00Z")
    msgs = []
    for i, (mid, sender, role, content, extra) in enumerate([
        ("msg_0a1b2c3d4e5f6071", "usr_82hd92", "user", "What changed in the Q3 pricing deck?", {"tags": ["pricing"], "meta_data": {"channel": "web"}}),
        ("msg_8192a3b4c5d6e7f8", "agt_assistant", "assistant", "Three slides changed.", {"parent_message_id": "msg_0a1b2c3d4e5f6071"}),
    ]):
        at = parse(f"2026-03-15T14:0{i + 1}:00Z")
        m = dict(conversation_id="conv_5f2a9c0e7b1d4a36", sender_id=sender, content=content, workspace_id="wsp_default",
                 created_at=stamp(at), updated_at=stamp(at), id=mid, role=role, tool_calls=None, message_type="text",
                 tags=None, checksum=hashlib.sha256(content.encode()).hexdigest(), attachments=None,
                 parent_message_id=None, meta_data={}, sent_at=at, owner_id=None)
        m.update(extra)
        msgs.append(m)
    STORE["conv_5f2a9c0e7b1d4a36"] = {"workspace_id": "wsp_default", "created_at": created, "messages": msgs}


preload()

bearer = HTTPBearer(auto_error=False)
api_key = APIKeyHeader(name="x-api-key", auto_error=False)


def authenticate(creds: Optional[HTTPAuthorizationCredentials] = Depends(bearer), key: Optional[str] = Depends(api_key)) -> dict:
    token = creds.credentials if creds else key
    if not token:
        raise HTTPException(401, "Not authenticated", headers={"WWW-Authenticate": "Bearer"})
    known = TOKENS.get(token, {"owner_id": None, "workspace_id": None, "expired": False})
    if known["expired"]:
        raise HTTPException(401, "Invalid authentication credentials", headers={"WWW-Authenticate": "Bearer"})
    return known


def workspace(token: dict, x_workspace_id: Optional[str]) -> str:
    ws = (x_workspace_id or "").strip() or token["workspace_id"] or "wsp_default"
    if ws in FORBIDDEN_WORKSPACES:
        raise HTTPException(403, "Not authorized for this workspace")
    return ws


@app.post("/api/v1/messages", response_model=list[Message], status_code=201, responses={**scripted_success(list[Message]), **ERRORS})
def create_message(body: MessagesCreate, token: dict = Depends(authenticate), x_workspace_id: Optional[str] = Header(default=None)):
    ws = workspace(token, x_workspace_id)
    now = datetime.now(timezone.utc)
    if body.conversation_id is None:
        conv_id = "conv_" + uuid.uuid4().hex[:16]
        STORE[conv_id] = {"workspace_id": ws, "created_at": now, "messages": []}
    else:
        conv_id = body.conversation_id
        conv = STORE.get(conv_id)
        if conv is None or conv["workspace_id"] != ws:
            raise HTTPException(404, "Conversation not found")
    c = body.content
    m = dict(conversation_id=conv_id, sender_id=c.sender_id, content=c.content, workspace_id=ws,
             created_at=stamp(now), updated_at=stamp(now), id="msg_" + uuid.uuid4().hex[:16], role=c.role,
             tool_calls=c.tool_calls, message_type=c.message_type, tags=c.tags,
             checksum=hashlib.sha256(c.content.encode("utf-8", "surrogatepass")).hexdigest(),
             attachments=c.attachments, parent_message_id=c.parent_message_id, meta_data=c.meta_data,
             sent_at=c.created_at or now, owner_id=token["owner_id"])
    STORE[conv_id]["messages"].append(m)
    return [m]


def instant(m: dict, key: str) -> datetime:
    v = m[key]
    if isinstance(v, str):
        v = parse(v)
    if v.tzinfo is None:
        v = v.replace(tzinfo=timezone.utc)
    return v


@app.get("/api/v1/messages", response_model=list[Message], responses={**scripted_success(list[Message]), **ERRORS})
def list_messages(conversation_id: str, skip: int = Query(0, ge=0), limit: int = Query(100, ge=1, le=1000),
                  order_by: Literal["created_at", "updated_at", "sent_at"] = "created_at",
                  order_direction: Literal["asc", "desc"] = "asc",
                  token: dict = Depends(authenticate), x_workspace_id: Optional[str] = Header(default=None)):
    ws = workspace(token, x_workspace_id)
    conv = STORE.get(conversation_id)
    if conv is None or conv["workspace_id"] != ws:
        raise HTTPException(404, "Conversation not found")
    msgs = sorted(conv["messages"], key=lambda m: instant(m, order_by))
    if order_direction == "desc":
        msgs.reverse()
    return msgs[skip:skip + limit]


@app.get("/api/v1/messages/{message_id}", response_model=Message, responses={**scripted_success(Message), **ERRORS})
def get_message(message_id: str, token: dict = Depends(authenticate), x_workspace_id: Optional[str] = Header(default=None)):
    ws = workspace(token, x_workspace_id)
    for conv in STORE.values():
        for m in conv["messages"]:
            if m["id"] == message_id and m["workspace_id"] == ws:
                return m
    raise HTTPException(404, "Message not found")


@app.get("/api/v1/conversations", response_model=Conversations, responses={**scripted_success(Conversations), **ERRORS})
def list_conversations(skip: int = Query(0, ge=0), limit: int = Query(100, ge=1, le=1000),
                       token: dict = Depends(authenticate), x_workspace_id: Optional[str] = Header(default=None)):
    ws = workspace(token, x_workspace_id)
    out = []
    for cid, conv in STORE.items():
        if conv["workspace_id"] != ws:
            continue
        updated = max([conv["created_at"]] + [instant(m, "created_at") for m in conv["messages"]])
        out.append(dict(id=cid, workspace_id=ws, created_at=stamp(conv["created_at"]), updated_at=stamp(updated),
                        message_count=len(conv["messages"])))
    out.sort(key=lambda c: parse(c["created_at"]), reverse=True)
    return {"data": out[skip:skip + limit], "total_count": len(out)}


STREAM = {200: {"description": "Server-Sent Events: message.created and message.delta, data being the Message JSON. A scenario "
                "can drop it (the reset, empty and timeout faults) or end it after some events, for the client to "
                "reconnect with Last-Event-ID",
                "content": {"text/event-stream": {"schema": {"type": "string"}}}}}


@app.get("/api/v1/events/stream", response_class=StreamingResponse, responses={**STREAM, **ERRORS})
def events_stream(conversation_id: Optional[str] = None, token: dict = Depends(authenticate),
                  x_workspace_id: Optional[str] = Header(default=None)):
    """SPEC section 3's companion stream; here it sends nothing and ends (the corpus does not read it)."""
    workspace(token, x_workspace_id)
    return StreamingResponse(iter(()), media_type="text/event-stream")
