// Package pydantic reproduces, byte for byte, what a FastAPI service does
// with a JSON request body before its handler runs:
//
//   - Parse is CPython's json.loads: the same accepted inputs, and for a
//     bad body the C scanner's message and the offset in characters that
//     FastAPI puts in a json_invalid error;
//   - Value re-serialises a parsed value as json.dumps(ensure_ascii=False)
//     does, for the "input" of a validation error;
//   - Validator collects Pydantic v2's validation errors (type, loc, msg,
//     input, ctx) in model field order, in lax mode, with speedate's
//     datetime parsing and Pydantic's timestamp serialisation (Time).
//
// Checked against CPython 3.11.7 (testdata/pyjson_errors.tsv was recorded
// with it), and Pydantic 2.13.4 with pydantic-core 2.46.4. It imports
// nothing of msgmock: the Workspace API uses it, and it knows nothing of
// HTTP.
package pydantic
