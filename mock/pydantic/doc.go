// Package pydantic reproduces, byte for byte, what a FastAPI service does
// with a JSON request body before its handler runs, and how it writes the
// values back:
//
//   - Parse is CPython's json.loads on bytes: the same accepted inputs
//     (decoded with "surrogatepass", lone surrogates kept), and for a bad
//     body the C scanner's message and the offset in characters that
//     FastAPI puts in a json_invalid error;
//   - Value re-serialises a parsed value as json.dumps(ensure_ascii=False)
//     does, for the "input" of a validation error, and Encodable says
//     whether FastAPI could write it at all;
//   - Serialize writes a validated field as pydantic-core does in a
//     response (a 201's Message), which differs from json.dumps in floats,
//     lone surrogates and nesting;
//   - Validator collects Pydantic v2's validation errors (type, loc, msg,
//     input, ctx) in model field order, in lax mode, with speedate's
//     datetime parsing and Pydantic's timestamp serialisation (Time).
//
// Checked against CPython 3.11.7 (testdata/pyjson_errors.tsv was recorded
// with it), and Pydantic 2.13.4 with pydantic-core 2.46.4
// (testdata/validate.golden, testdata/serialize.golden), and end to end
// against FastAPI 0.141.1 by package mock's testdata/fastapi goldens. It
// imports nothing of msgmock: the Workspace API uses it, and it knows
// nothing of HTTP.
//
// # What cannot be written back
//
// Where real FastAPI fails to write an answer, the service answers
// Starlette's 500 text/plain "Internal Server Error"; the caller does the
// same when Encodable (a 422's input) or Serialize (a 201's fields) says
// so. The causes, each measured against the real stack: NaN or an
// infinity in an echoed input; a lone surrogate in an echoed input or in a
// field written back (but not in a typed dict's key, which pydantic-core
// writes lossily); an echoed input nested 965 containers deep or more; an
// Any value nested more than 255 values deep in a response. A body that is
// not JSON (no JSON Content-Type) and not UTF-8 is echoed as text that
// jsonable_encoder cannot decode: the caller answers 500 for it too.
//
// # Nesting limits are Python's stack, measured
//
// CPython 3.11's json scanner and the echo of a 422's input recurse once
// per container against one limit of 1,000 shared with the Python frames
// below them, so how deep they get depends on the server around the app.
// The figures here (parsed up to 969 containers, echoed up to 964) are
// those of FastAPI 0.141.1 on Starlette 0.47.3 called as an ASGI app, as
// testdata/fastapi/record.py in package mock calls it; under uvicorn a few
// levels fewer. pydantic-core's limit of 255 does not depend on the stack.
package pydantic
