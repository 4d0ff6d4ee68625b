"""Records how Pydantic writes each value of serialize_cases.txt back.

Run from this folder with a Python that has pydantic 2:
    python3 record_serialize.py > serialize.golden
Each input line is KIND<TAB>JSON; each output line is KIND<TAB>JSON<TAB>
RESPONSE<TAB>ECHO, where RESPONSE is what pydantic-core writes for a
response field of that type (TypeAdapter.dump_json, as FastAPI 0.141 writes
a response_model) and ECHO is what json.dumps writes for a 422's input (as
FastAPI's JSONResponse does), each "ok <json>" or "err" when it raises.
"""
import json
from typing import Any

from pydantic import TypeAdapter

adapters = {
    "str": TypeAdapter(str),
    "strlist": TypeAdapter(list[str]),
    "dict": TypeAdapter(dict[str, Any]),
    "dictlist": TypeAdapter(list[dict[str, Any]]),
}

for line in open("serialize_cases.txt", encoding="utf-8"):
    line = line.rstrip("\n")
    if not line or line.startswith("#"):
        continue
    kind, raw = line.split("\t", 1)
    value = json.loads(raw)
    ta = adapters[kind]
    try:
        response = "ok " + ta.dump_json(ta.validate_python(value)).decode()
    except Exception:
        response = "err"
    try:
        echo = "ok " + json.dumps(value, ensure_ascii=False, allow_nan=False, separators=(",", ":")).encode("utf-8").decode()
    except Exception:
        echo = "err"
    print(kind + "\t" + raw + "\t" + response + "\t" + echo)
