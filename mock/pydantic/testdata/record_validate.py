"""Records what Pydantic answers for each value in validate_cases.txt.

Run from this folder with a Python that has pydantic 2:
    python3 record_validate.py > validate.golden
Each input line is KIND<TAB>JSON; each output line is KIND<TAB>JSON<TAB>RESULT
where RESULT is the serialised value on success, or the error list as FastAPI
renders it (no "url") on failure.
"""
import json, sys
from datetime import datetime
from typing import Optional
from pydantic import BaseModel, ValidationError, TypeAdapter

adapters = {
    "str": TypeAdapter(str),
    "optstr": TypeAdapter(Optional[str]),
    "optbool": TypeAdapter(Optional[bool]),
    "dict": TypeAdapter(dict),
    "liststr": TypeAdapter(Optional[list[str]]),
    "listdict": TypeAdapter(Optional[list[dict]]),
    "datetime": TypeAdapter(Optional[datetime]),
}

for line in open("validate_cases.txt", encoding="utf-8"):
    line = line.rstrip("\n")
    if not line or line.startswith("#"):
        continue
    kind, raw = line.split("\t", 1)
    ta = adapters[kind]
    try:
        v = ta.validate_python(json.loads(raw))
        out = "ok " + ta.dump_json(v).decode()
    except ValidationError as e:
        errs = [{k: x[k] for k in ("type", "loc", "msg", "input", "ctx") if k in x} for x in e.errors(include_url=False)]
        out = "err " + json.dumps(errs, ensure_ascii=False, separators=(",", ":"), default=str)
    print(kind + "\t" + raw + "\t" + out)
