package mock_test

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"
)

// The documents checked the other way round: requests generated from the
// served documents' request schemas, sent to msgmock over HTTP. A request
// the schemas accept must not be refused (no 400 or 422); one that breaks a
// single constraint of them must be refused with the API's 400 (the
// Conversations envelope) or 422 (FastAPI's detail list); and every
// response, whatever the request, must be one its document lists, status
// and body.

var genSeed = flag.Uint64("genseed", 26, "seed of the requests TestGeneratedRequestsMatchTheDocuments generates")

// validPerOperation is how many schema-valid requests each operation gets.
const validPerOperation = 40

// Pydantic's lax mode accepts, beyond its JSON Schema, some values of
// another type: for a bool, the strings "yes", "true", "1"… and the numbers
// 0 and 1; for a datetime, any number (a Unix time). That is FastAPI's own
// behaviour, which the document FastAPI generates does not state; a
// wrong-typed value for the Workspace API is drawn outside them (below:
// "maybe", 7, 2.5, and no number for a date-time).

func TestGeneratedRequestsMatchTheDocuments(t *testing.T) {
	ts := startServer(t, nil)
	// Events and messages to name: one send in each API.
	ts.sendConversations(t, `{"conversation_id":"con_9s2kd81","sender_id":"usr_82hd92","sender_type":"user","text":"hi","auto_reply":false}`)
	for _, api := range []struct {
		name    string
		refused int // what a request that breaks the schema gets
		lax     bool
	}{
		{"conversations", http.StatusBadRequest, false},
		{"workspace", http.StatusUnprocessableEntity, true},
	} {
		t.Run(api.name, func(t *testing.T) {
			served := ts.call(t, "GET", "/__mock/openapi/"+api.name+".json", "")
			if served.Status != 200 {
				t.Fatalf("GET the %s document: %d", api.name, served.Status)
			}
			c := loadContractFrom(t, api.name, served.Body)
			g := &requestGen{doc: c.raw, rnd: rand.New(rand.NewPCG(*genSeed, uint64(len(api.name)))), lax: api.lax, hints: knownValues(t, ts)}
			run := &generatedRun{t: t, ts: ts, c: c, statuses: map[int]int{}}
			for _, op := range operations(c.raw) {
				// Schema-valid requests: never refused. The last one that
				// succeeds is the base of the probes below, so that they get
				// past the existence checks.
				var succeeded *genRequest
				for i := 0; i < validPerOperation; i++ {
					req := g.request(op)
					res := run.send(op, req, "valid")
					if res != nil && (res.Status == http.StatusBadRequest || res.Status == http.StatusUnprocessableEntity) {
						t.Errorf("%s %s, schema-valid, refused: %d %s\nrequest: %s", op.method, op.path, res.Status, res.Body, req)
					}
					if res != nil && res.Status/100 == 2 {
						succeeded = req
					}
				}
				if succeeded == nil {
					t.Fatalf("%s %s: none of %d schema-valid requests succeeded", op.method, op.path, validPerOperation)
				}
				// One constraint broken at a time: refused in the API's shape.
				base := succeeded
				for _, m := range g.mutations(op, base) {
					req := m.apply(base.clone())
					res := run.send(op, req, "invalid: "+m.desc)
					if res != nil && res.Status != api.refused {
						t.Errorf("%s %s, %s: %d, want %d\n%s\nrequest: %s", op.method, op.path, m.desc, res.Status, api.refused, res.Body, req)
					}
					run.invalid++
				}
				// What else a client meets: no key, a scripted status, every
				// built-in scenario, an unknown one, a body over the limit.
				run.send(op, base.with("Authorization", ""), "no key")
				codes := append(op.errorStatuses(), scriptedStatuses...)
				slices.Sort(codes)
				for _, code := range slices.Compact(codes) {
					run.send(op, base.with("Prefer", "code="+strconv.Itoa(code)), "Prefer: code="+strconv.Itoa(code))
				}
				for _, name := range scenarioNames(t, ts) {
					run.send(op, base.with("X-Mock-Scenario", name), "X-Mock-Scenario: "+name)
				}
				if op.body != nil {
					for _, raw := range rawBodies {
						req := base.with("Content-Type", raw.contentType)
						req.body = raw.body
						run.send(op, req, raw.what)
					}
				}
			}
			var hist []string
			for s, n := range run.statuses {
				hist = append(hist, fmt.Sprintf("%d×%d", s, n))
			}
			sort.Strings(hist)
			t.Logf("%s: %d responses (%d to schema-invalid requests), %d outside the document; statuses %s", api.name, run.sent, run.invalid, run.outside, strings.Join(hist, " "))
			if run.invalid < 20 || run.sent < 200 {
				t.Fatalf("only %d requests (%d invalid) generated", run.sent, run.invalid)
			}
		})
	}
}

// scriptedStatuses are asked for with Prefer on every operation, whatever
// its document lists: SPEC §5's table, pass-through's, and three others.
var scriptedStatuses = []int{400, 401, 403, 404, 409, 413, 418, 422, 429, 500, 502, 503, 504, 599}

// rawBodies are bodies no schema describes, sent to every operation with a
// body: what they get back must be in the document all the same.
var rawBodies = []struct {
	what, contentType string
	body              []byte
}{
	{"a body over the limit", "application/json", append([]byte(`{"pad":"`), append(bytes.Repeat([]byte("x"), 1<<20), `"}`...)...)},
	{"a body that is not JSON", "application/json", []byte(`{"text":`)},
	{"a body that is not UTF-8", "application/json", []byte("{\"text\":\"\xff\"}")},
	{"a lone surrogate", "application/json", []byte(`{"content":{"content":"\ud800","sender_id":"u"},"sender_id":"u","sender_type":"user","text":"\ud800"}`)},
	{"a text/plain body", "text/plain", []byte("hello")},
	{"a text/plain body that is not UTF-8", "text/plain", []byte("caf\xe9")},
	{"JSON nested 2,000 deep", "application/json", append(bytes.Repeat([]byte("["), 2000), bytes.Repeat([]byte("]"), 2000)...)},
	{"an empty body", "application/json", []byte{}},
}

// generatedRun sends requests and checks every answer against the document.
type generatedRun struct {
	t                      *testing.T
	ts                     *testServer
	c                      contract
	sent, invalid, outside int
	statuses               map[int]int
}

// send sends req and checks the answer against the document; it returns
// nil when the connection gave no answer (a scripted fault).
func (r *generatedRun) send(op operation, req *genRequest, what string) *response {
	r.t.Helper()
	target := op.path
	for name, v := range req.pathParams {
		target = strings.ReplaceAll(target, "{"+name+"}", url.PathEscape(v))
	}
	if len(req.query) > 0 {
		target += "?" + req.query.Encode()
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var body io.Reader
	if req.body != nil {
		body = bytes.NewReader(req.body)
	}
	hr, err := http.NewRequestWithContext(ctx, op.method, r.ts.URL+target, body)
	if err != nil {
		r.t.Fatal(err)
	}
	for k, v := range req.header {
		if v != "" {
			hr.Header.Set(k, v)
		}
	}
	res, err := r.ts.Client().Do(hr)
	if err != nil {
		if strings.HasPrefix(what, "X-Mock-Scenario") {
			return nil // a fault the scenario scripts (reset, empty)
		}
		r.t.Fatalf("%s %s (%s): %v", op.method, target, what, err)
	}
	defer res.Body.Close()
	var b []byte
	if mt := res.Header.Get("Content-Type"); !strings.HasPrefix(mt, "text/event-stream") {
		b, _ = io.ReadAll(res.Body) // a stream is checked by its head: it does not end
	}
	r.sent++
	r.statuses[res.StatusCode]++
	got, cerr := r.c.check(exchange{method: op.method, target: target, reqHeader: hr.Header, status: res.StatusCode, header: res.Header, body: b})
	if got != validated || cerr != nil {
		r.outside++
		r.t.Errorf("%s %s (%s) → %d outside the document (%v): %v\n%.400s", op.method, target, what, res.StatusCode, got, cerr, b)
	}
	return &response{Status: res.StatusCode, Header: res.Header, Body: b}
}

// operation is one method of one path of a document.
type operation struct {
	path, method string
	params       []map[string]any // resolved
	body         map[string]any   // the application/json request schema, or nil
	responses    map[string]any
}

// errorStatuses are the 4xx and 5xx the operation lists by number.
func (op operation) errorStatuses() []int {
	var out []int
	for k := range op.responses {
		if n, err := strconv.Atoi(k); err == nil && n >= 400 {
			out = append(out, n)
		}
	}
	sort.Ints(out)
	return out
}

func operations(doc map[string]any) []operation {
	g := &requestGen{doc: doc}
	var out []operation
	paths := doc["paths"].(map[string]any)
	for _, path := range sortedKeys(paths) {
		item := paths[path].(map[string]any)
		for _, method := range []string{"get", "post", "put", "delete"} {
			o, ok := item[method].(map[string]any)
			if !ok {
				continue
			}
			op := operation{path: path, method: strings.ToUpper(method), responses: o["responses"].(map[string]any)}
			for _, p := range append(anySlice(item["parameters"]), anySlice(o["parameters"])...) {
				op.params = append(op.params, g.deref(p.(map[string]any)))
			}
			if rb, ok := o["requestBody"].(map[string]any); ok {
				if mt, ok := rb["content"].(map[string]any)["application/json"].(map[string]any); ok {
					op.body = g.deref(mt["schema"].(map[string]any))
				}
			}
			out = append(out, op)
		}
	}
	return out
}

// genRequest is one generated request.
type genRequest struct {
	pathParams map[string]string
	query      url.Values
	header     map[string]string
	bodyValue  any // the JSON body before encoding
	body       []byte
}

func (r *genRequest) clone() *genRequest {
	c := &genRequest{pathParams: map[string]string{}, query: url.Values{}, header: map[string]string{}, bodyValue: deepCopy(r.bodyValue), body: r.body}
	for k, v := range r.pathParams {
		c.pathParams[k] = v
	}
	for k, v := range r.query {
		c.query[k] = append([]string(nil), v...)
	}
	for k, v := range r.header {
		c.header[k] = v
	}
	return c
}

func (r *genRequest) with(header, value string) *genRequest {
	c := r.clone()
	c.header[header] = value
	return c
}

func (r *genRequest) encode() *genRequest {
	if r.bodyValue != nil || r.body != nil {
		b, err := json.Marshal(r.bodyValue)
		if err != nil {
			panic(err)
		}
		r.body = b
	}
	return r
}

func (r *genRequest) String() string {
	return fmt.Sprintf("path %v query %q headers %v body %.300s", r.pathParams, r.query.Encode(), r.header, r.body)
}

// requestGen draws values from JSON Schemas: the subset the documents use
// (type, possibly a list with "null"; enum; const; anyOf; oneOf;
// properties, required, additionalProperties; items; minLength; minimum,
// maximum; format date-time; $ref to the document's components).
type requestGen struct {
	doc   map[string]any
	rnd   *rand.Rand
	lax   bool
	hints map[string][]string // ids the server holds, by property or parameter name
}

func (g *requestGen) deref(s map[string]any) map[string]any {
	for {
		ref, ok := s["$ref"].(string)
		if !ok {
			return s
		}
		var node any = g.doc
		for _, part := range strings.Split(strings.TrimPrefix(ref, "#/"), "/") {
			node = node.(map[string]any)[part]
		}
		s = node.(map[string]any)
	}
}

// request draws a schema-valid request for op, with the seed's key.
func (g *requestGen) request(op operation) *genRequest {
	req := &genRequest{pathParams: map[string]string{}, query: url.Values{}, header: map[string]string{"Authorization": "Bearer " + seedKey}}
	for _, p := range op.params {
		name, in := p["name"].(string), p["in"].(string)
		if required, _ := p["required"].(bool); !required && g.rnd.IntN(10) < 4 {
			continue
		}
		v := g.valid(p["schema"].(map[string]any), name, 0, in)
		if v == nil {
			continue // null: a parameter left out
		}
		s := scalarText(v)
		switch in {
		case "path":
			req.pathParams[name] = s
		case "query":
			req.query.Set(name, s)
		case "header":
			req.header[name] = s
		}
	}
	if op.body != nil {
		req.bodyValue = g.valid(op.body, "", 0, "body")
		req.header["Content-Type"] = "application/json"
	}
	return req.encode()
}

func scalarText(v any) string {
	switch v := v.(type) {
	case string:
		return v
	case json.Number:
		return v.String()
	case bool:
		return strconv.FormatBool(v)
	}
	b, _ := json.Marshal(v)
	return string(b)
}

// branches are a schema's anyOf or oneOf alternatives.
func (g *requestGen) branches(s map[string]any) []map[string]any {
	var out []map[string]any
	for _, key := range []string{"anyOf", "oneOf"} {
		for _, b := range anySlice(s[key]) {
			out = append(out, g.deref(b.(map[string]any)))
		}
	}
	return out
}

func schemaTypes(s map[string]any) []string {
	switch t := s["type"].(type) {
	case string:
		return []string{t}
	case []any:
		var out []string
		for _, x := range t {
			out = append(out, x.(string))
		}
		return out
	}
	return nil
}

// allowedTypes are the JSON types a schema accepts, its branches' included;
// nil when it accepts any.
func (g *requestGen) allowedTypes(s map[string]any) []string {
	s = g.deref(s)
	if alts := g.branches(s); len(alts) > 0 {
		var out []string
		for _, b := range alts {
			bt := g.allowedTypes(b)
			if bt == nil {
				return nil
			}
			out = append(out, bt...)
		}
		return out
	}
	if e, ok := s["enum"].([]any); ok && len(e) > 0 && s["type"] == nil {
		return []string{"string"}
	}
	return schemaTypes(s)
}

// valid draws a value s accepts. name is the property or parameter it
// is for (hints), in where it goes (a header takes no control characters).
func (g *requestGen) valid(s map[string]any, name string, depth int, in string) any {
	s = g.deref(s)
	if hs := g.hints[name]; len(hs) > 0 && g.rnd.IntN(2) == 0 && slices.Contains(g.allowedTypes(s), "string") {
		if h := hs[g.rnd.IntN(len(hs))]; h != "" || in != "path" {
			return h
		}
	}
	if c, ok := s["const"]; ok {
		return c
	}
	if e, ok := s["enum"].([]any); ok && len(e) > 0 {
		return e[g.rnd.IntN(len(e))]
	}
	if alts := g.branches(s); len(alts) > 0 {
		return g.valid(alts[g.rnd.IntN(len(alts))], name, depth, in)
	}
	types := schemaTypes(s)
	if len(types) == 0 {
		return g.anyJSON(depth)
	}
	t := types[g.rnd.IntN(len(types))]
	if nonNull := slices.DeleteFunc(slices.Clone(types), func(x string) bool { return x == "null" }); t == "null" && len(nonNull) > 0 && g.rnd.IntN(3) > 0 {
		t = nonNull[g.rnd.IntN(len(nonNull))] // null now and then, not half the time
	}
	switch t {
	case "null":
		return nil
	case "boolean":
		return g.rnd.IntN(2) == 0
	case "integer":
		lo, hi := -1000, 1000
		if m, ok := number(s["minimum"]); ok {
			lo = int(m)
		}
		if m, ok := number(s["maximum"]); ok {
			hi = int(m)
		}
		return json.Number(strconv.Itoa(lo + g.rnd.IntN(hi-lo+1)))
	case "number":
		return json.Number([]string{"0", "1.5", "-2.25", "1e-7", "0.00001", "1e16", "3.141592653589793", "-0.0", "123456789012345678901234567890"}[g.rnd.IntN(9)])
	case "string":
		if s["format"] == "date-time" {
			return g.dateTime()
		}
		min := 0
		if m, ok := number(s["minLength"]); ok {
			min = int(m)
		}
		if in == "path" {
			min = max(min, 1)
		}
		return g.str(min+g.rnd.IntN(10), in)
	case "array":
		items, _ := s["items"].(map[string]any)
		out := []any{}
		for i := g.rnd.IntN(4); i > 0; i-- {
			if items == nil {
				out = append(out, g.anyJSON(depth+1))
			} else {
				out = append(out, g.valid(items, "", depth+1, in))
			}
		}
		return out
	case "object":
		return g.object(s, depth)
	}
	panic("schema type " + t)
}

func (g *requestGen) object(s map[string]any, depth int) map[string]any {
	out := map[string]any{}
	props, _ := s["properties"].(map[string]any)
	required := map[string]bool{}
	for _, r := range anySlice(s["required"]) {
		required[r.(string)] = true
	}
	for _, name := range sortedKeys(props) {
		if required[name] || g.rnd.IntN(10) < 6 {
			out[name] = g.valid(props[name].(map[string]any), name, depth+1, "body")
		}
	}
	switch ap := s["additionalProperties"].(type) {
	case bool:
		if !ap {
			return out
		}
	case map[string]any:
		for i := g.rnd.IntN(3); i > 0; i-- {
			out[g.str(1+g.rnd.IntN(6), "body")] = g.valid(ap, "", depth+1, "body")
		}
		return out
	}
	// Free-form, or unknown fields beside the known ones (ignored by both APIs).
	if props == nil || g.rnd.IntN(5) == 0 {
		for i := g.rnd.IntN(4); i > 0; i-- {
			out["x_"+g.str(1+g.rnd.IntN(6), "body")] = g.anyJSON(depth + 1)
		}
	}
	return out
}

var genAlphabet = []string{"a", "b", "Z", "0", "7", "_", "-", " ", ".", "é", "ß", "日本", "😀", "\u2028", "\"", "\\", "/", "<&>", "\n", "\t", "\u0001", "\u007f"}

func (g *requestGen) str(n int, in string) string {
	var b strings.Builder
	for b.Len() < n || len([]rune(b.String())) < n {
		if in == "header" || in == "path" {
			b.WriteByte("abcxyz0129_-"[g.rnd.IntN(12)])
			continue
		}
		b.WriteString(genAlphabet[g.rnd.IntN(len(genAlphabet))])
	}
	return b.String()
}

func (g *requestGen) dateTime() string {
	t := time.Date(1970+g.rnd.IntN(130), time.Month(1+g.rnd.IntN(12)), 1+g.rnd.IntN(28), g.rnd.IntN(24), g.rnd.IntN(60), g.rnd.IntN(60), 0, time.UTC)
	switch g.rnd.IntN(4) {
	case 0:
		return t.Format("2006-01-02T15:04:05Z")
	case 1:
		return t.Add(time.Duration(g.rnd.IntN(1e6)) * time.Microsecond).Format("2006-01-02T15:04:05.000000Z")
	case 2:
		return t.In(time.FixedZone("", (g.rnd.IntN(47)-23)*1800)).Format("2006-01-02T15:04:05-07:00")
	}
	return t.Format("2006-01-02T15:04:05.123+00:00")
}

// anyJSON is any JSON value, nested at most three deep.
func (g *requestGen) anyJSON(depth int) any {
	n := 8
	if depth >= 3 {
		n = 6
	}
	switch g.rnd.IntN(n) {
	case 0:
		return nil
	case 1:
		return g.rnd.IntN(2) == 0
	case 2:
		return json.Number(strconv.Itoa(g.rnd.IntN(2_000_001) - 1_000_000))
	case 3:
		return g.valid(map[string]any{"type": "number"}, "", depth, "body")
	case 4, 5:
		return g.str(g.rnd.IntN(8), "body")
	case 6:
		out := []any{}
		for i := g.rnd.IntN(4); i > 0; i-- {
			out = append(out, g.anyJSON(depth+1))
		}
		return out
	}
	out := map[string]any{}
	for i := g.rnd.IntN(4); i > 0; i-- {
		out[g.str(1+g.rnd.IntN(5), "body")] = g.anyJSON(depth + 1)
	}
	return out
}

// A mutation breaks one constraint of a schema-valid request.
type mutation struct {
	desc  string
	apply func(*genRequest) *genRequest
}

// wrongValues are values of each JSON type, chosen outside Pydantic's lax
// coercions: "maybe" and 7 are no boolean, 2.5 no integer.
var wrongValues = map[string]any{
	"string": "maybe", "integer": json.Number("7"), "number": json.Number("2.5"), "boolean": true,
	"object": map[string]any{"k": json.Number("1")}, "array": []any{json.Number("1")}, "null": nil,
}

// mutations lists, for op's request, every way of breaking one constraint
// of its schemas: a wrong type, a missing required field, an empty string
// under minLength, an enum miss, a date-time that is none, a number out of
// its bounds — in the body (nested objects and list items included) and in
// the parameters.
func (g *requestGen) mutations(op operation, base *genRequest) []mutation {
	var out []mutation
	for _, p := range op.params {
		name, in := p["name"].(string), p["in"].(string)
		if in != "query" {
			continue // path and header parameters are strings, anything goes
		}
		s := g.deref(p["schema"].(map[string]any))
		set := func(desc, v string) {
			out = append(out, mutation{desc, func(r *genRequest) *genRequest { r.query.Set(name, v); return r }})
		}
		if required, _ := p["required"].(bool); required {
			out = append(out, mutation{"query " + name + " missing", func(r *genRequest) *genRequest { r.query.Del(name); return r }})
		}
		if slices.Contains(schemaTypes(s), "integer") {
			set("query "+name+" not an integer", "abc")
			set("query "+name+" a fraction", "1.5")
			if m, ok := number(s["minimum"]); ok {
				set("query "+name+" under its minimum", strconv.Itoa(int(m)-1))
			}
			if m, ok := number(s["maximum"]); ok {
				set("query "+name+" over its maximum", strconv.Itoa(int(m)+1))
			}
		}
		if _, ok := s["enum"]; ok {
			set("query "+name+" not one of its enum", "not-one-of-them")
		}
	}
	if op.body == nil {
		return out
	}
	body := func(desc string, edit func(any) any) {
		out = append(out, mutation{desc, func(r *genRequest) *genRequest { r.bodyValue = edit(r.bodyValue); return r.encode() }})
	}
	for _, t := range []string{"array", "string", "integer", "boolean"} {
		v := wrongValues[t]
		body("the body a JSON "+t, func(any) any { return deepCopy(v) })
	}
	g.objectMutations(op.body, nil, body)
	return out
}

// objectMutations adds the mutations of the object schema s found at path
// in the body.
func (g *requestGen) objectMutations(s map[string]any, path []string, body func(string, func(any) any)) {
	s = g.deref(s)
	props, _ := s["properties"].(map[string]any)
	required := map[string]bool{}
	for _, r := range anySlice(s["required"]) {
		required[r.(string)] = true
	}
	for _, name := range sortedKeys(props) {
		at := append(slices.Clone(path), name)
		where := strings.Join(at, ".")
		ps := g.deref(props[name].(map[string]any))
		set := func(desc string, v any) {
			body(where+" "+desc, func(b any) any { return setAt(b, at, deepCopy(v)) })
		}
		if required[name] {
			body(where+" missing", func(b any) any { return deleteAt(b, at) })
		}
		allowed := g.allowedTypes(ps)
		if allowed != nil {
			for _, t := range []string{"string", "integer", "number", "boolean", "object", "array", "null"} {
				if slices.Contains(allowed, t) || t == "integer" && slices.Contains(allowed, "number") {
					continue
				}
				if g.lax && (t == "integer" || t == "number") && isDateTime(g, ps) {
					continue // a Unix time, to Pydantic
				}
				set("a JSON "+t, wrongValues[t])
			}
		}
		if m, ok := number(ps["minLength"]); ok && m >= 1 {
			set("empty", "")
		}
		if _, ok := ps["enum"]; ok {
			set("not one of its enum", "not-one-of-them")
		}
		if isDateTime(g, ps) {
			set("not a date-time", "not a date")
		}
		for _, b := range append([]map[string]any{ps}, g.branches(ps)...) {
			if items, ok := b["items"].(map[string]any); ok {
				if it := g.allowedTypes(items); it != nil {
					wrong := "array"
					if slices.Contains(it, "array") {
						wrong = "string"
					}
					set("with an item of the wrong type", []any{g.valid(items, "", 1, "body"), wrongValues[wrong]})
				}
			}
			if _, ok := b["properties"]; ok && required[name] {
				g.objectMutations(b, at, body)
			}
		}
	}
}

func isDateTime(g *requestGen, s map[string]any) bool {
	for _, b := range append([]map[string]any{s}, g.branches(s)...) {
		if b["format"] == "date-time" {
			return true
		}
	}
	return false
}

func setAt(v any, path []string, x any) any {
	if len(path) == 0 {
		return x
	}
	m, ok := v.(map[string]any)
	if !ok {
		return v
	}
	m[path[0]] = setAt(m[path[0]], path[1:], x)
	return m
}

func deleteAt(v any, path []string) any {
	m, ok := v.(map[string]any)
	if !ok {
		return v
	}
	if len(path) == 1 {
		delete(m, path[0])
	} else {
		m[path[0]] = deleteAt(m[path[0]], path[1:])
	}
	return m
}

func deepCopy(v any) any {
	switch v := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(v))
		for k, x := range v {
			out[k] = deepCopy(x)
		}
		return out
	case []any:
		out := make([]any, len(v))
		for i, x := range v {
			out[i] = deepCopy(x)
		}
		return out
	}
	return v
}

// number reads a number of the document (jsonschema.UnmarshalJSON keeps
// them as json.Number).
func number(v any) (float64, bool) {
	switch v := v.(type) {
	case json.Number:
		f, err := v.Float64()
		return f, err == nil
	case float64:
		return v, true
	}
	return 0, false
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func anySlice(v any) []any {
	s, _ := v.([]any)
	return s
}

// knownValues are ids the server holds, for the generator to name now and
// then: a request naming only random ids would never get past a 404.
func knownValues(t *testing.T, ts *testServer) map[string][]string {
	t.Helper()
	ids := regexp.MustCompile(`"id":"((?:con|msg|evt|conv)_[0-9a-z]+)"`)
	collect := func(path string) []string {
		res := ts.call(t, "GET", path, "", "Authorization: Bearer "+seedKey)
		var out []string
		for _, m := range ids.FindAllStringSubmatch(string(res.Body), -1) {
			out = append(out, m[1])
		}
		return out
	}
	hints := map[string][]string{}
	prefixed := func(prefix string, from []string) []string {
		var out []string
		for _, id := range from {
			if strings.HasPrefix(id, prefix) {
				out = append(out, id)
			}
		}
		return out
	}
	conversationMessages := collect("/v1/conversations/con_9s2kd81/messages")
	wsConvs := prefixed("conv_", collect("/api/v1/conversations"))
	var wsMsgs []string
	for _, c := range wsConvs {
		wsMsgs = append(wsMsgs, prefixed("msg_", collect("/api/v1/messages?conversation_id="+c))...)
	}
	hints["conversation_id"] = append([]string{"con_9s2kd81", ""}, wsConvs...)
	hints["reply_to_message_id"] = append([]string{""}, conversationMessages...)
	hints["message_id"] = wsMsgs
	hints["after"] = prefixed("evt_", collect("/v1/events"))
	hints["Last-Event-ID"] = hints["after"]
	hints["x-workspace-id"] = []string{"wsp_default", "wsp_forbidden", "wsp_acme"}
	if len(conversationMessages) == 0 || len(wsConvs) == 0 || len(wsMsgs) == 0 || len(hints["after"]) == 0 {
		t.Fatalf("the built-in fixtures hold too little to name: %v", hints)
	}
	return hints
}

// scenarioNames are the built-in scenarios, but slow-network, whose
// latency (seconds) shows nothing about the documents.
func scenarioNames(t *testing.T, ts *testServer) []string {
	t.Helper()
	var st struct {
		Scenarios []string `json:"scenarios"`
	}
	if err := json.Unmarshal(ts.call(t, "GET", "/__mock/status", "").Body, &st); err != nil || len(st.Scenarios) < 5 {
		t.Fatalf("scenarios: %v %v", st.Scenarios, err)
	}
	// A scripted 2xx, which keeps the usual body.
	if res := ts.call(t, "PUT", "/__mock/scenarios/accepted", `{"rules":[{"respond":{"status":202}}]}`); res.Status != 200 {
		t.Fatalf("add a scenario: %d %s", res.Status, res.Body)
	}
	return append(slices.DeleteFunc(st.Scenarios, func(s string) bool { return s == "slow-network" }), "accepted", "no-such-scenario")
}
