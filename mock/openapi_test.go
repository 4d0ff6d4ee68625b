package mock_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"mime"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"
	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/msgmock/msgmock/mock/openapi"
	"github.com/msgmock/msgmock/scenarios"
)

// The OpenAPI documents msgmock serves, checked with kin-openapi: each is a
// valid OpenAPI 3.1 document, and every golden response the tests hold is
// valid against its document, so a response that drifts from its document
// fails here.

// A contract checks responses against a document: kin-openapi routes the
// request and checks the status, headers and media type; the body is
// checked against the response's schema by santhosh-tekuri/jsonschema (the
// 2020-12 validator kin-openapi itself uses). kin-openapi v0.152 falls back
// to its OpenAPI 3.0 validator for a schema with internal $refs and no
// 2020-only keyword, and that one refuses null for an empty schema (so it
// would reject Pydantic's "input": null, which {"title": "Input"} allows).
type contract struct {
	name     string
	doc      *openapi3.T
	router   routers.Router
	raw      map[string]any
	compiler *jsonschema.Compiler
}

func loadContract(t *testing.T, name string) contract {
	t.Helper()
	data, ok := openapi.Document(name)
	if !ok {
		t.Fatalf("no document %s", name)
	}
	return loadContractFrom(t, name, data)
}

// loadContractFrom checks data, the document name as some source gave it.
func loadContractFrom(t *testing.T, name string, data []byte) contract {
	t.Helper()
	doc, err := openapi3.NewLoader().LoadFromData(data)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	if !doc.IsOpenAPI31OrLater() || doc.OpenAPI != "3.1.0" {
		t.Fatalf("%s is OpenAPI %s, want 3.1.0", name, doc.OpenAPI)
	}
	if err := doc.Validate(context.Background()); err != nil {
		t.Fatalf("%s is not a valid OpenAPI document: %v", name, err)
	}
	doc.Servers = nil // route whatever host the golden request named
	router, err := gorillamux.NewRouter(doc)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := jsonschema.UnmarshalJSON(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	compiler := jsonschema.NewCompiler()
	compiler.DefaultDraft(jsonschema.Draft2020)
	if err := compiler.AddResource(docURL(name), raw); err != nil {
		t.Fatal(err)
	}
	return contract{name: name, doc: doc, router: router, raw: raw.(map[string]any), compiler: compiler}
}

func docURL(name string) string { return "https://msgmock.invalid/openapi/" + name + ".json" }

// bodySchema compiles the schema of the response to method path with
// status and media type, following a $ref to a shared response.
func (c contract) bodySchema(path, method string, status int, mediaType string) (*jsonschema.Schema, error) {
	esc := func(s string) string { return strings.ReplaceAll(strings.ReplaceAll(s, "~", "~0"), "/", "~1") }
	responses := c.raw["paths"].(map[string]any)[path].(map[string]any)[strings.ToLower(method)].(map[string]any)["responses"].(map[string]any)
	// The status, else its range (2XX), else default: OpenAPI's order.
	var resp map[string]any
	var key string
	for _, key = range []string{strconv.Itoa(status), strconv.Itoa(status/100) + "XX", "default"} {
		if r, ok := responses[key].(map[string]any); ok {
			resp = r
			break
		}
	}
	if resp == nil {
		return nil, fmt.Errorf("the document lists no response for %d", status)
	}
	pointer := "/paths/" + esc(path) + "/" + strings.ToLower(method) + "/responses/" + key
	if ref, ok := resp["$ref"].(string); ok {
		pointer = strings.TrimPrefix(ref, "#")
		resp = c.raw
		for _, part := range strings.Split(strings.TrimPrefix(pointer, "/"), "/") {
			resp = resp[part].(map[string]any)
		}
	}
	content, _ := resp["content"].(map[string]any)
	if _, ok := content[mediaType]; !ok {
		return nil, fmt.Errorf("the document has no %s body for %d", mediaType, status)
	}
	pointer += "/content/" + esc(mediaType) + "/schema"
	return c.compiler.Compile(docURL(c.name) + "#" + (&url.URL{Fragment: pointer}).EscapedFragment())
}

// exchange is one request and the response a golden file holds for it.
type exchange struct {
	source         string
	method, target string
	reqHeader      http.Header
	status         int
	header         http.Header
	body           []byte
}

// outcome of checking one exchange against its document.
type outcome int

const (
	validated    outcome = iota
	unrouted             // no operation: an unknown path or method
	undocumented         // the operation lists no such status (a scripted answer)
)

func (c contract) check(ex exchange) (outcome, error) {
	req := httptest.NewRequest(ex.method, "http://127.0.0.1"+ex.target, nil)
	req.Header = ex.reqHeader.Clone()
	route, params, err := c.router.FindRoute(req)
	if errors.Is(err, routers.ErrPathNotFound) || errors.Is(err, routers.ErrMethodNotAllowed) {
		return unrouted, nil
	}
	if err != nil {
		return 0, err
	}
	if route.Operation.Responses.Status(ex.status) == nil && route.Operation.Responses.Default() == nil {
		return undocumented, nil
	}
	in := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: route},
		Status:                 ex.status,
		Header:                 ex.header,
		Options:                &openapi3filter.Options{IncludeResponseStatus: true, MultiError: true, ExcludeResponseBody: true},
	}
	in.SetBodyBytes(ex.body)
	if err := openapi3filter.ValidateResponse(context.Background(), in); err != nil {
		return validated, err
	}
	mediaType, _, _ := mime.ParseMediaType(ex.header.Get("Content-Type"))
	if mediaType != "application/json" {
		return validated, nil
	}
	schema, err := c.bodySchema(route.Path, ex.method, ex.status, mediaType)
	if err != nil {
		return validated, err
	}
	body, err := jsonschema.UnmarshalJSON(bytes.NewReader(ex.body))
	if err != nil {
		return validated, fmt.Errorf("the body is not JSON: %w", err)
	}
	return validated, schema.Validate(body)
}

func TestOpenAPIDocumentsAreValidAndServed(t *testing.T) {
	ts := startServer(t, nil, func(o *mockOptions) { o.AdminToken = "s3cret" })
	for _, name := range openapi.Names {
		loadContract(t, name)
		want, _ := openapi.Document(name)
		// The documents hold no data: served without the admin token.
		res := ts.call(t, "GET", "/__mock/openapi/"+name+".json", "")
		if res.Status != 200 || res.Header.Get("Content-Type") != "application/json" || !bytes.Equal(res.Body, want) {
			t.Errorf("GET /__mock/openapi/%s.json: %d %s", name, res.Status, res.Header.Get("Content-Type"))
		}
	}
	// The Workspace API's, where its FastAPI service serves it, byte for
	// byte as FastAPI generated it (testdata/fastapi/openapi.py).
	ws, _ := openapi.Document("workspace")
	res := ts.call(t, "GET", "/openapi.json", "")
	if res.Status != 200 || res.Header.Get("Content-Type") != "application/json" || !bytes.Equal(res.Body, ws) {
		t.Errorf("GET /openapi.json: %d %s", res.Status, res.Header.Get("Content-Type"))
	}
	if res := ts.call(t, "POST", "/openapi.json", ""); res.Status != 405 || string(res.Body) != `{"detail":"Method Not Allowed"}` || res.Header.Get("Allow") != "GET, HEAD" {
		t.Errorf("POST /openapi.json: %d %s Allow %q", res.Status, res.Body, res.Header.Get("Allow"))
	}
	if res := ts.call(t, "GET", "/__mock/openapi/nope.json", ""); res.Status != 404 {
		t.Errorf("an unknown document: %d %s", res.Status, res.Body)
	}
	schema := ts.call(t, "GET", "/__mock/schema/fixtures.json", "")
	if schema.Status != 200 || schema.Header.Get("Content-Type") != "application/schema+json" || !bytes.Equal(schema.Body, scenarios.Schema()) {
		t.Errorf("GET /__mock/schema/fixtures.json: %d %s", schema.Status, schema.Header.Get("Content-Type"))
	}
	// Nothing of it is journaled.
	if res := ts.call(t, "GET", "/__mock/requests", "", "Authorization: Bearer s3cret"); !strings.Contains(string(res.Body), `"requests":[]`) {
		t.Errorf("documents were journaled: %s", res.Body)
	}
}

// goldenExchanges reads every golden exchange of an API.
func goldenExchanges(t *testing.T, api string) []exchange {
	t.Helper()
	var out []exchange
	files, _ := filepath.Glob(filepath.Join("testdata", api, "*.txt"))
	for _, file := range files {
		ex := readExchange(t, file)
		h := http.Header{}
		for _, line := range ex.headers {
			k, v, _ := strings.Cut(line, ":")
			h.Add(strings.TrimSpace(k), strings.TrimSpace(v))
		}
		statusLine, rest, _ := strings.Cut(ex.response, "\n")
		head, body, _ := strings.Cut(rest, "\n\n")
		status, _ := strconv.Atoi(statusLine)
		rh := http.Header{}
		for _, line := range strings.Split(head, "\n") {
			if k, v, ok := strings.Cut(line, ":"); ok {
				rh.Add(strings.TrimSpace(k), strings.TrimSpace(v))
			}
		}
		out = append(out, exchange{source: file, method: ex.method, target: ex.path, reqHeader: h, status: status, header: rh, body: []byte(strings.TrimSuffix(body, "\n"))})
	}
	if api == "workspace" {
		out = append(out, fastapiGoldens(t)...)
	}
	if api == "conversations" {
		jsonHeader := http.Header{"Content-Type": {"application/json"}}
		for file, req := range map[string][2]string{
			"send_a/seed_example.json":     {"POST", "/v1/messages"},
			"send_a/new_conversation.json": {"POST", "/v1/messages"},
			"send_a/list_con_9s2kd81.json": {"GET", "/v1/conversations/con_9s2kd81/messages"},
			"send_a/list_new.json":         {"GET", "/v1/conversations/con_x/messages"},
			"events/feed_first.json":       {"GET", "/v1/events"},
		} {
			body, err := os.ReadFile(filepath.Join("testdata", file))
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, exchange{source: file, method: req[0], target: req[1], reqHeader: http.Header{}, status: 200, header: jsonHeader, body: body})
		}
	}
	return out
}

// fastapiGoldens are the answers of the real FastAPI service (TestFastAPIGoldens).
func fastapiGoldens(t *testing.T) []exchange {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", "fastapi", "golden.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []exchange
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	for sc.Scan() {
		var g struct {
			Name            string            `json:"name"`
			Method          string            `json:"method"`
			Path            string            `json:"path"`
			Headers         [][2]string       `json:"headers"`
			Status          int               `json:"status"`
			ResponseHeaders map[string]string `json:"response_headers"`
			ResponseBody    string            `json:"response_body"`
		}
		if err := json.Unmarshal(sc.Bytes(), &g); err != nil {
			t.Fatal(err)
		}
		h, rh := http.Header{}, http.Header{}
		for _, kv := range g.Headers {
			h.Add(kv[0], kv[1])
		}
		for k, v := range g.ResponseHeaders {
			rh.Set(k, v)
		}
		out = append(out, exchange{source: "fastapi/golden.jsonl: " + g.Name, method: g.Method, target: g.Path, reqHeader: h, status: g.Status, header: rh, body: []byte(g.ResponseBody)})
	}
	return out
}

func TestGoldenResponsesMatchTheirDocuments(t *testing.T) {
	for _, api := range []string{"conversations", "workspace"} {
		t.Run(api, func(t *testing.T) {
			c := loadContract(t, api)
			counts := map[outcome]int{}
			undocumentedStatuses := map[int]int{}
			for _, ex := range goldenExchanges(t, api) {
				got, err := c.check(ex)
				if err != nil {
					t.Errorf("%s: %s %s → %d drifts from the document:\n%v\nbody: %s", ex.source, ex.method, ex.target, ex.status, err, ex.body)
				}
				counts[got]++
				if got == undocumented {
					undocumentedStatuses[ex.status]++
				}
			}
			var statuses []string
			for s, n := range undocumentedStatuses {
				statuses = append(statuses, strconv.Itoa(s)+"×"+strconv.Itoa(n))
			}
			sort.Strings(statuses)
			t.Logf("%s: %d golden responses validated; %d on no documented operation (unknown paths, wrong methods); %d with a status the operation does not list (%s)",
				api, counts[validated], counts[unrouted], counts[undocumented], strings.Join(statuses, ", "))
			if counts[validated] < 30 {
				t.Fatalf("only %d responses validated", counts[validated])
			}
			// Each document lists every status msgmock answers.
			if counts[undocumented] > 0 {
				t.Errorf("statuses missing from the %s document: %v", api, statuses)
			}
		})
	}
}

func TestContractCatchesDrift(t *testing.T) {
	conv, ws := loadContract(t, "conversations"), loadContract(t, "workspace")
	jsonHeader := http.Header{"Content-Type": {"application/json"}}
	for _, tt := range []struct {
		name string
		c    contract
		ex   exchange
	}{
		{"an extra key in a message", conv, exchange{method: "POST", target: "/v1/messages", status: 200, body: []byte(
			`{"status":"success","message":"Message sent successfully.","data":{"conversation_id":"con_1","message":{"id":"msg_1","sender_id":"u","sender_type":"user","text":"hi","created_at":"2026-03-15T14:22:11Z","extra":1},"auto_reply_enqueued":true}}`)}},
		{"a missing envelope key", conv, exchange{method: "POST", target: "/v1/messages", status: 400, body: []byte(`{"status":"error","message":"Bad request."}`)}},
		{"an error with data", conv, exchange{method: "POST", target: "/v1/messages", status: 404, body: []byte(`{"status":"error","message":"x","data":{}}`)}},
		{"a scripted status outside the envelope", conv, exchange{method: "POST", target: "/v1/messages", status: 418, body: []byte(`{"error":"x"}`)}},
		{"a success body under a scripted error", conv, exchange{method: "GET", target: "/v1/events", status: 503, body: []byte(`{"status":"success","message":"Events retrieved successfully.","data":{"events":[],"has_more":false}}`)}},
		{"a message without workspace_id", ws, exchange{method: "POST", target: "/api/v1/messages", status: 201, body: []byte(
			`[{"conversation_id":"c","sender_id":"u","content":"hi","id":"m"}]`)}},
		{"a validation error that is not a list", ws, exchange{method: "POST", target: "/api/v1/messages", status: 422, body: []byte(`{"detail":"nope"}`)}},
		{"detail not a string", ws, exchange{method: "GET", target: "/api/v1/messages/m", status: 404, body: []byte(`{"detail":1}`)}},
	} {
		tt.ex.reqHeader, tt.ex.header = http.Header{}, jsonHeader
		got, err := tt.c.check(tt.ex)
		if got == unrouted || err == nil && got == validated {
			t.Errorf("%s: passed (%v), want a drift", tt.name, got)
		}
	}
}

func TestAdminResponsesMatchTheAdminDocument(t *testing.T) {
	ts := startServer(t, nil)
	c := loadContract(t, "admin")
	ts.sendConversations(t, `{"conversation_id":"con_9s2kd81","sender_id":"u","sender_type":"user","text":"hi"}`, "X-Mock-Session: s")
	ts.sendConversations(t, `{"conversation_id":"con_9s2kd81","sender_id":"a","sender_type":"agent","text":"a near miss"}`, "X-Mock-Session: s")
	for _, call := range []struct{ method, path, body string }{
		{"POST", "/__mock/verify", `{"request":{"api":"conversations","when":{"sender_type":"user"}},"count":{"exactly":1}}`},
		{"POST", "/__mock/verify", `{"expect":[{"request":{"rule":{"absent":true}},"count":{"never":true}},{"sequence":[{"when":{"text":"a near miss"}},{"when":{"text":"hi"}}]}]}`},
		{"POST", "/__mock/verify", `{"request":{"when":{"text":{"regex":"("}}}}`},
		{"GET", "/__mock/unmatched", ""},
		{"GET", "/__mock/scenarios/default/usage", ""},
		{"GET", "/__mock/scenarios/nope/usage", ""},
		{"GET", "/__mock/health", ""},
		{"GET", "/__mock/status", ""},
		{"PUT", "/__mock/scenario", `{"name":"streaming"}`},
		{"PUT", "/__mock/scenario", `{"name":"nope"}`},
		{"GET", "/__mock/requests", ""},
		{"GET", "/__mock/requests?after=req_000001", ""},
		{"GET", "/__mock/requests?after=x", ""},
		{"GET", "/__mock/requests/req_000001", ""},
		{"GET", "/__mock/requests/req_999999", ""},
		{"GET", "/__mock/conversations", ""},
		{"GET", "/__mock/sessions", ""},
		{"GET", "/__mock/webhooks/deliveries", ""},
		{"GET", "/__mock/clock", ""},
		{"POST", "/__mock/clock", `{"advance":"1s"}`},
		{"POST", "/__mock/clock", `{}`},
		{"PUT", "/__mock/scenarios/extra", "scenario:\n  rules:\n    - respond: {status: 500}\n"},
		{"PUT", "/__mock/scenarios/bad", "rules:\n  - respond: {status: 700}\n"},
		{"PUT", "/__mock/scenarios/huge", "# " + strings.Repeat("x", 300<<10) + "\n"},
		{"GET", "/__mock/scenarios/extra", ""},
		{"GET", "/__mock/scenarios", ""},
		{"DELETE", "/__mock/scenarios/extra", ""},
		{"POST", "/__mock/reset", ""},
		{"DELETE", "/__mock/requests", ""},
	} {
		res := ts.call(t, call.method, call.path, call.body, "X-Mock-Session: s")
		got, err := c.check(exchange{method: call.method, target: call.path, reqHeader: http.Header{"X-Mock-Session": {"s"}}, status: res.Status, header: res.Header, body: res.Body})
		if got != validated || err != nil {
			t.Errorf("%s %s → %d (%v): %v\n%s", call.method, call.path, res.Status, got, err, res.Body)
		}
	}
}
