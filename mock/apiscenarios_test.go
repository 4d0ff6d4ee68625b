package mock_test

import (
	"encoding/json"
	"strings"
	"testing"
	"testing/fstest"
)

// TestScenariosOverTheAdminAPI: a scenario added over the API answers, is
// isolated to its session, survives a reload of the files, is listed, and
// is gone after reset; one with problems is refused with line and column.
func TestScenariosOverTheAdminAPI(t *testing.T) {
	files := fstest.MapFS{"c.yaml": {Data: []byte("conversations:\n  - id: con_a\n")}}
	ts := startServer(t, files)
	const outage = `
description: every send fails for a while
rules:
  - when: {api: conversations}
    respond: {status: 503}
`
	if res := ts.call(t, "PUT", "/__mock/scenarios/outage", outage, "X-Mock-Session: qa"); res.Status != 200 {
		t.Fatalf("PUT: %d %s", res.Status, res.Body)
	}
	send := func(session string) int {
		return ts.sendConversations(t, `{"sender_id":"u","sender_type":"user","text":"hi"}`, "X-Mock-Scenario: outage", "X-Mock-Session: "+session).Status
	}
	if got := send("qa"); got != 503 {
		t.Errorf("its session: %d, want 503", got)
	}
	if got := send("other"); got != 400 {
		t.Errorf("another session: %d, want 400 (unknown scenario)", got)
	}
	// JSON is YAML too; without X-Mock-Session it is for every session.
	if res := ts.call(t, "PUT", "/__mock/scenarios/teapot", `{"rules":[{"respond":{"status":418}}]}`); res.Status != 200 {
		t.Fatalf("PUT JSON: %d %s", res.Status, res.Body)
	}
	if got := ts.sendConversations(t, `{"sender_id":"u","sender_type":"user","text":"hi"}`, "X-Mock-Scenario: teapot", "X-Mock-Session: other").Status; got != 418 {
		t.Errorf("a server-wide added scenario in a session: %d, want 418", got)
	}
	// A reload of the files keeps them.
	files["c.yaml"] = &fstest.MapFile{Data: []byte("conversations:\n  - id: con_b\n")}
	if changed, err := ts.store.Reload(); !changed || err != nil {
		t.Fatalf("reload: %v %v", changed, err)
	}
	if got := send("qa"); got != 503 {
		t.Errorf("after a reload: %d, want 503", got)
	}
	var list struct{ Server, Session []string }
	_ = json.Unmarshal(ts.call(t, "GET", "/__mock/scenarios", "", "X-Mock-Session: qa").Body, &list)
	if strings.Join(list.Server, ",") != "teapot" || strings.Join(list.Session, ",") != "outage" {
		t.Errorf("list: %+v", list)
	}
	if res := ts.call(t, "GET", "/__mock/scenarios/outage", "", "X-Mock-Session: qa"); res.Status != 200 || !strings.Contains(string(res.Body), "every send fails") {
		t.Errorf("GET: %d %s", res.Status, res.Body)
	}
	// Reset removes them: the session's with its reset, the server's with the server's.
	ts.call(t, "POST", "/__mock/reset", "", "X-Mock-Session: qa")
	if got := send("qa"); got != 400 {
		t.Errorf("after the session's reset: %d, want 400", got)
	}
	ts.call(t, "POST", "/__mock/reset", "")
	if res := ts.call(t, "GET", "/__mock/scenarios/teapot", ""); res.Status != 404 {
		t.Errorf("server-wide scenario after reset: %d, want 404", res.Status)
	}
	// Problems, located.
	res := ts.call(t, "PUT", "/__mock/scenarios/bad", "rules:\n  - when: {colour: red}\n    respond: {status: 700}\n")
	if res.Status != 400 || !strings.Contains(string(res.Body), `scenarios/bad:2:12: unknown key \"colour\"`) ||
		!strings.Contains(string(res.Body), "scenarios/bad:3:23:") {
		t.Errorf("a bad scenario: %d %s", res.Status, res.Body)
	}
	if res := ts.call(t, "PUT", "/__mock/scenarios/x", "name: y\nrules: [{respond: {status: 500}}]\n"); res.Status != 400 {
		t.Errorf("a body naming another scenario: %d %s", res.Status, res.Body)
	}
	if res := ts.call(t, "DELETE", "/__mock/scenarios/nothing", ""); res.Status != 404 {
		t.Errorf("DELETE unknown: %d", res.Status)
	}
}
