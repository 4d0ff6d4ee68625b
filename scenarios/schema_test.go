package scenarios_test

import (
	"bytes"
	"errors"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"gopkg.in/yaml.v3"

	"github.com/msgmock/msgmock/fixtures"
	"github.com/msgmock/msgmock/scenarios"
)

// The JSON Schema of the fixtures format against the loader: every file the
// loader accepts, the schema accepts; every file refused for a reason the
// schema can express (keys, types, enums, patterns, ranges, required and
// exclusive keys), the schema refuses too. What it cannot express is listed
// in loaderOnly.

func compileSchema(t testing.TB) *jsonschema.Schema {
	t.Helper()
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(scenarios.Schema()))
	if err != nil {
		t.Fatal(err)
	}
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	if err := c.AddResource("fixtures.json", doc); err != nil {
		t.Fatal(err)
	}
	sch, err := c.Compile("fixtures.json") // checks the schema against the 2020-12 meta-schema
	if err != nil {
		t.Fatalf("the schema does not compile: %v", err)
	}
	return sch
}

// schemaCheck validates one YAML file as an editor would.
func schemaCheck(t testing.TB, sch *jsonschema.Schema, data []byte) error {
	t.Helper()
	js, err := scenarios.YAMLToJSON(data)
	if err != nil {
		return err
	}
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(js))
	if err != nil {
		t.Fatal(err)
	}
	if v == nil {
		v = map[string]any{} // a file of comments only
	}
	return sch.Validate(v)
}

// schemaURL is where a running msgmock (on its default address) serves the
// schema, as the built-in fixtures name it.
const schemaURL = "http://127.0.0.1:8080/__mock/schema/fixtures.json"

func loadOne(data []byte) error {
	_, err := scenarios.Load(fstest.MapFS{"f.yaml": {Data: data}}, "")
	return err
}

func TestSchemaAcceptsEveryFixtureTheLoaderAccepts(t *testing.T) {
	sch := compileSchema(t)
	check := func(name string, data []byte) {
		if err := loadOne(data); err != nil {
			return // a file that only loads with its directory, or a bad one
		}
		if err := schemaCheck(t, sch, data); err != nil {
			t.Errorf("%s: the loader accepts it, the schema does not:\n%v", name, err)
		}
	}
	n := 0
	err := fs.WalkDir(fixtures.FS, ".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || scenarios.Skipped(path) {
			return err
		}
		data, _ := fs.ReadFile(fixtures.FS, path)
		if loadOne(data) != nil {
			t.Errorf("built-in %s does not load on its own", path)
		}
		// Editors find the schema from the file's first line.
		if first, _, _ := strings.Cut(string(data), "\n"); first != "# yaml-language-server: $schema="+schemaURL {
			t.Errorf("built-in %s starts with %q, not the yaml-language-server line", path, first)
		}
		check("built-in "+path, data)
		n++
		return nil
	})
	if err != nil || n < 15 {
		t.Fatalf("built-in fixtures: %d files, %v", n, err)
	}
	for _, root := range []string{"testdata", "../mock/testdata", "../cmd/msgmock/testdata"} {
		_ = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() && d.Name() == "node_modules" {
				return filepath.SkipDir
			}
			if !d.IsDir() && (strings.HasSuffix(path, ".yaml") || strings.HasSuffix(path, ".yml")) {
				data, _ := os.ReadFile(path)
				check(path, data)
				n++
			}
			return nil
		})
	}
	t.Logf("%d files checked", n)
}

// Each of these the loader refuses, for a reason the schema expresses.
var refusedByBoth = []struct{ name, yaml string }{
	{"unknown top-level key", "scenarios: []\n"},
	{"unknown settings key", "settings: {colour: red}\n"},
	{"auth mode", "settings: {auth: {mode: some}}\n"},
	{"token without token", "settings: {auth: {tokens: [{owner_id: u}]}}\n"},
	{"expired not a boolean", "settings: {auth: {tokens: [{token: t, expired: maybe}]}}\n"},
	{"workspaces not a list", "settings: {workspaces: wsp_a}\n"},
	{"webhook without secret", "settings: {webhooks: [{url: 'http://127.0.0.1:9/h'}]}\n"},
	{"webhook secret not base64", "settings: {webhooks: [{url: 'http://127.0.0.1:9/h', secret: 'whsec_not base64!'}]}\n"},
	{"webhook secret not a string", "settings: {webhooks: [{url: 'http://x/h', secret: 1234}]}\n"},
	{"webhook url not http", "settings: {webhooks: [{url: 'ftp://x/h', secret: whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw}]}\n"},
	{"webhook event type", "settings: {webhooks: [{url: 'http://x/h', secret: whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw, events: [message.deleted]}]}\n"},
	{"auto_create not a boolean", "settings: {conversations: {auto_create: sometimes}}\n"},
	{"retention zero", "settings: {retention: {journal: 0}}\n"},
	{"retention not a number", "settings: {retention: {events: lots}}\n"},
	{"retention over its maximum", "settings: {retention: {sessions: 100001}}\n"},
	{"body_limit not a size", "settings: {body_limit: 1 potato}\n"},
	{"clock", "settings: {clock: sundial}\n"},
	{"passthrough without url", "settings: {passthrough: {timeout: 1s}}\n"},
	{"passthrough url not http", "settings: {passthrough: {url: 'ftp://files.example'}}\n"},
	{"passthrough timeout", "settings: {passthrough: {url: 'https://api.example-ai.com', timeout: soon}}\n"},
	{"passthrough key", "settings: {passthrough: {url: 'https://api.example-ai.com', retries: 2}}\n"},
	{"cors origins not a list", "settings: {cors: {origins: '*'}}\n"},
	{"cors credentials not a boolean", "settings: {cors: {credentials: sometimes}}\n"},
	{"security key", "settings: {security: {allowed_origins: [x]}}\n"},
	{"allowed_hosts not a list", "settings: {security: {allowed_hosts: msgmock}}\n"},
	{"an allowed host that is a URL", "settings: {security: {allowed_hosts: ['http://msgmock:8080']}}\n"},
	{"an allowed host with a path", "settings: {security: {allowed_hosts: ['msgmock/x']}}\n"},
	{"an admin origin with a path", "settings: {security: {admin_origins: ['http://localhost:5173/']}}\n"},
	{"an admin origin without a scheme", "settings: {security: {admin_origins: ['localhost:5173']}}\n"},
	{"an admin origin of every page", "settings: {security: {admin_origins: ['*']}}\n"},
	{"mask_credentials not a boolean", "settings: {security: {mask_credentials: maybe}}\n"},
	{"conversations not a list", "conversations: {id: c}\n"},
	{"conversation without id", "conversations: [{api: conversations}]\n"},
	{"conversation api", "conversations: [{id: c, api: chat}]\n"},
	{"workspace_id on the Conversations API", "conversations: [{id: c, workspace_id: w}]\n"},
	{"conversation created_at", "conversations: [{id: c, created_at: yesterday}]\n"},
	{"message without text", "conversations: [{id: c, messages: [{sender_id: u, sender_type: user}]}]\n"},
	{"message sender_type", "conversations: [{id: c, messages: [{sender_id: u, sender_type: bot, text: hi}]}]\n"},
	{"a Workspace key in a Conversations message", "conversations: [{id: c, messages: [{sender_id: u, sender_type: user, text: hi, role: user}]}]\n"},
	{"workspace message without content", "conversations: [{id: c, api: workspace, messages: [{sender_id: u}]}]\n"},
	{"a Conversations key in a Workspace message", "conversations: [{id: c, api: workspace, messages: [{sender_id: u, content: hi, sender_type: user}]}]\n"},
	{"empty sender_id", "conversations: [{id: c, messages: [{sender_id: '', sender_type: user, text: hi}]}]\n"},
	{"generate with id", "conversations: [{id: c, generate: {count: 2}}]\n"},
	{"generate count", "conversations: [{generate: {count: 5000}}]\n"},
	{"scenario key", "scenario: {name: s, steps: []}\n"},
	{"rule that does nothing", "scenario: {rules: [{name: r}]}\n"},
	{"rule key", "scenario: {rules: [{respond: {status: 500}, priority: 1}]}\n"},
	{"status below 200", "scenario: {rules: [{respond: {status: 99}}]}\n"},
	{"status not a number", "scenario: {rules: [{respond: {status: fivehundred}}]}\n"},
	{"fault", "scenario: {rules: [{respond: {fault: explode}}]}\n"},
	{"fault with a status", "scenario: {rules: [{respond: {fault: reset, status: 500}}]}\n"},
	{"message on a success", "scenario: {rules: [{respond: {status: 200, message: hi}}]}\n"},
	{"message and body", "scenario: {rules: [{respond: {status: 500, message: hi, body: {a: 1}}}]}\n"},
	{"latency not a duration", "scenario: {rules: [{respond: {status: 500, latency: fast}}]}\n"},
	{"latency min without max", "scenario: {rules: [{respond: {status: 500, latency: {min: 1s}}}]}\n"},
	{"latency both shapes", "scenario: {rules: [{respond: {status: 500, latency: {min: 1s, max: 2s, median: 1s, p99: 2s}}}]}\n"},
	{"times zero", "scenario: {rules: [{times: 0, respond: {status: 500}}]}\n"},
	{"chance above 1", "scenario: {rules: [{chance: 1.5, respond: {status: 500}}]}\n"},
	{"chance zero", "scenario: {rules: [{chance: 0, respond: {status: 500}}]}\n"},
	{"empty state", "scenario: {rules: [{state: {}, respond: {status: 500}}]}\n"},
	{"when key", "scenario: {rules: [{when: {query: a}, respond: {status: 500}}]}\n"},
	{"continue with a status", "scenario: {rules: [{continue: true, respond: {status: 500}}]}\n"},
	{"absent with an operator", "scenario: {rules: [{when: {text: {absent: true, contains: a}}, respond: {status: 500}}]}\n"},
	{"absent not a boolean", "scenario: {rules: [{when: {headers: {X-Trace: {absent: maybe}}}, respond: {status: 500}}]}\n"},
	{"absent for a method", "scenario: {rules: [{when: {method: {absent: true}}, respond: {status: 500}}]}\n"},
	{"continue with a reply", "scenario: {rules: [{continue: true, respond: {latency: 1s}, reply: {text: hi}}]}\n"},
	{"drop_after zero", "scenario: {rules: [{when: {path: /v1/events/stream}, respond: {drop_after: 0}}]}\n"},
	{"when api", "scenario: {rules: [{when: {api: both}, respond: {status: 500}}]}\n"},
	{"matcher with two operators", "scenario: {rules: [{when: {text: {contains: a, prefix: b}}, respond: {status: 500}}]}\n"},
	{"matcher without an operator", "scenario: {rules: [{when: {text: {ignore_case: true}}, respond: {status: 500}}]}\n"},
	{"sender_type and role", "scenario: {rules: [{when: {sender_type: user, role: user}, respond: {status: 500}}]}\n"},
	{"reply without text", "scenario: {rules: [{reply: {after: 1s}}]}\n"},
	{"reply sender_type", "scenario: {rules: [{reply: {text: hi, sender_type: bot}}]}\n"},
	{"reply role for the Conversations API", "scenario: {rules: [{when: {api: conversations}, reply: {text: hi, role: bot}}]}\n"},
	{"reply sender_type for the Workspace API", "scenario: {rules: [{when: {api: workspace}, reply: {text: hi, sender_type: agent}}]}\n"},
	{"inline without api: workspace", "scenario: {rules: [{reply: {text: hi, inline: true}}]}\n"},
	{"inline with after", "scenario: {rules: [{when: {api: workspace}, reply: {text: hi, inline: true, after: 1s}}]}\n"},
	{"inline with stream", "scenario: {rules: [{when: {api: workspace}, reply: [{text: hi, inline: true, stream: {chunk: word}}]}]}\n"},
	{"stream chunk", "scenario: {rules: [{reply: {text: hi, stream: {chunk: sentence}}}]}\n"},
	{"reply on an error", "scenario: {rules: [{respond: {status: 500}, reply: {text: hi}}]}\n"},
	{"reply on a fault", "scenario: {rules: [{respond: {fault: reset}, reply: [{text: hi}]}]}\n"},
	{"a bad key in a list of replies", "scenario: {rules: [{reply: [{text: hi}, {text: hi, colour: red}]}]}\n"},
	{"interval not a duration", "scenario: {rules: [{reply: {text: hi, stream: {interval: soon}}}]}\n"},
	{"headers not a mapping", "scenario: {rules: [{respond: {status: 500, headers: [a]}}]}\n"},
	{"rate limit key", "settings: {rate_limits: [{key: ip, requests: 3, per: 1m}]}\n"},
	{"rate limit without per", "settings: {rate_limits: [{requests: 3}]}\n"},
	{"rate limit without an amount", "settings: {rate_limits: [{per: 1m}]}\n"},
	{"rate limit requests and characters", "settings: {rate_limits: [{requests: 3, characters: 100, per: 1m}]}\n"},
	{"rate limit window and bucket", "settings: {rate_limits: [{requests: 3, per: 1m, burst: 5}]}\n"},
	{"token bucket without refill", "settings: {rate_limits: [{burst: 5}]}\n"},
	{"token bucket refill not a rate", "settings: {rate_limits: [{burst: 5, refill: fast}]}\n"},
	{"token bucket unit", "settings: {rate_limits: [{burst: 5, refill: 1/s, unit: tokens}]}\n"},
	{"rate limit requests zero", "settings: {rate_limits: [{requests: 0, per: 1m}]}\n"},
	{"rate limit headers", "settings: {rate_limits: [{requests: 3, per: 1m, headers: azure}]}\n"},
	{"rate limit api", "scenario: {rate_limits: [{requests: 3, per: 1m, api: both}]}\n"},
	{"rate limit key in a scenario", "scenario: {rate_limits: [{requests: 3, per: 1m, window: sliding}]}\n"},
	{"rate_limits not a list", "settings: {rate_limits: {requests: 3, per: 1m}}\n"},
	{"stream profile with a profile", "settings: {stream_profiles: {mine: {profile: fast}}}\n"},
	{"stream interval and tokens_per_second", "scenario: {rules: [{reply: {text: hi, stream: {interval: 1s, tokens_per_second: 5}}}]}\n"},
	{"stream tokens_per_second zero", "scenario: {rules: [{reply: {text: hi, stream: {tokens_per_second: 0}}}]}\n"},
	{"stream jitter above 1", "scenario: {rules: [{reply: {text: hi, stream: {jitter: 1.5}}}]}\n"},
	{"stream first_token", "scenario: {rules: [{reply: {text: hi, stream: {first_token: soon}}}]}\n"},
	{"stream chunk min without max", "scenario: {rules: [{reply: {text: hi, stream: {chunk: {min: 2}}}}]}\n"},
	{"stream fault kind", "scenario: {rules: [{reply: {text: hi, stream: {faults: [{fault: explode}]}}}]}\n"},
	{"stream fault without fault", "scenario: {rules: [{reply: {text: hi, stream: {faults: [{chunk: 2}]}}}]}\n"},
	{"stream stall without for", "scenario: {rules: [{reply: {text: hi, stream: {faults: [{fault: stall, chunk: 2}]}}}]}\n"},
	{"stream drop with for", "scenario: {rules: [{reply: {text: hi, stream: {faults: [{fault: drop, for: 1s}]}}}]}\n"},
	{"stream fault chunk zero", "scenario: {rules: [{reply: {text: hi, stream: {faults: [{fault: repeat, chunk: 0}]}}}]}\n"},
	{"stream fault chance zero", "scenario: {rules: [{reply: {text: hi, stream: {faults: [{fault: repeat, chance: 0}]}}}]}\n"},
}

// These the loader refuses for reasons no schema can state: what compiles,
// what refers to what, what adds up across keys or files.
var loaderOnly = []struct{ name, yaml string }{
	{"a duration over 24h", "scenario: {rules: [{respond: {status: 500, latency: 25h}}]}\n"},
	{"min above max", "scenario: {rules: [{respond: {status: 500, latency: {min: 2s, max: 1s}}}]}\n"},
	{"median above p99", "scenario: {rules: [{respond: {status: 500, latency: {median: 2s, p99: 1s}}}]}\n"},
	{"a regex that does not compile", "scenario: {rules: [{when: {text: {regex: '('}}, respond: {status: 500}}]}\n"},
	{"a template that does not parse", "scenario: {rules: [{reply: {text: '{{ Sentence '}}]}\n"},
	{"an unknown template function", "scenario: {rules: [{reply: {text: '{{ Nope }}'}}]}\n"},
	{"a reply to a message that is not earlier", "conversations: [{id: c, messages: [{sender_id: u, sender_type: user, text: hi, reply_to_message_id: m9}]}]\n"},
	{"two messages with one id", "conversations: [{id: c, messages: [{id: m, sender_id: u, sender_type: user, text: a}, {id: m, sender_id: u, sender_type: user, text: b}]}]\n"},
	{"too many generated messages", "conversations: [{generate: {count: 1000, messages: 1000}}]\n"},
	{"a message budget under twice the body limit", "settings: {body_limit: 1MiB, retention: {message_bytes: 1MiB}}\n"},
	{"an allowed host's port above 65535", "settings: {security: {allowed_hosts: ['devbox.local:99999']}}\n"},
	{"an allowed host label ending with a hyphen", "settings: {security: {allowed_hosts: [bad-.example]}}\n"},
	{"an admin origin on port 0", "settings: {security: {admin_origins: ['http://localhost:0']}}\n"},
	{"a rate limit window under 1ms", "settings: {rate_limits: [{requests: 3, per: 0s}]}\n"},
	{"a refill of nothing", "settings: {rate_limits: [{burst: 3, refill: 0/s}]}\n"},
	{"a stall of no time", "scenario: {rules: [{reply: {text: hi, stream: {faults: [{fault: stall, for: 0s}]}}}]}\n"},
	{"an unknown stream profile", "scenario: {rules: [{reply: {text: hi, stream: {profile: glacial}}}]}\n"},
}

func TestSchemaRefusesWhatTheLoaderRefuses(t *testing.T) {
	sch := compileSchema(t)
	if len(refusedByBoth) < 30 {
		t.Fatalf("only %d refused files", len(refusedByBoth))
	}
	for _, tt := range refusedByBoth {
		if err := loadOne([]byte(tt.yaml)); err == nil {
			t.Errorf("%s: the loader accepts it", tt.name)
		}
		if err := schemaCheck(t, sch, []byte(tt.yaml)); err == nil {
			t.Errorf("%s: the schema accepts what the loader refuses:\n%s", tt.name, tt.yaml)
		}
	}
	for _, tt := range loaderOnly {
		if err := loadOne([]byte(tt.yaml)); err == nil {
			t.Errorf("%s: the loader accepts it", tt.name)
		}
		if err := schemaCheck(t, sch, []byte(tt.yaml)); err != nil {
			t.Errorf("%s: now refused by the schema too (move it to refusedByBoth): %v", tt.name, err)
		}
	}
}

// loaderOnlyReasons are the loader's messages for what the schema cannot
// state (see loaderOnly).
var loaderOnlyReasons = []string{
	"at most 24h", "is above max", "0 < median <= p99", "regex", "template", ".text:", "replies to",
	"duplicate", "asks for", "message_bytes", "given twice", "more than once", "port must be", "not a host name",
	"at least 1ms", "invalid rate", "lasts no time", "unknown stream profile",
}

// TestSchemaAgreesWithTheLoaderOnMutations mutates every fixture the
// loader accepts, with a seeded random generator (delete a key, rename
// one, put another value or shape in a place), and checks both ways: what
// the loader accepts the schema accepts, and what the loader refuses only
// for reasons the schema can state, the schema refuses.
func TestSchemaAgreesWithTheLoaderOnMutations(t *testing.T) {
	sch := compileSchema(t)
	var seeds [][]byte
	_ = fs.WalkDir(fixtures.FS, ".", func(path string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && !scenarios.Skipped(path) {
			data, _ := fs.ReadFile(fixtures.FS, path)
			seeds = append(seeds, data)
		}
		return nil
	})
	for _, p := range []string{"testdata/load/valid_scenarios/everything.yml", "testdata/load/valid_scenarios/billing.yaml", "testdata/load/valid_settings/settings.yaml", "testdata/load/valid_settings/sub/convs.yml", "testdata/load/valid_templates/s.yaml", "testdata/load/valid_limits_streams/settings.yaml", "testdata/load/valid_limits_streams/streams.yaml"} {
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		seeds = append(seeds, data)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	values := []string{"", "0", "-1", "true", "abc", "1.5", "99", "500", "404", "word", "workspace", "user", "2s", "25h", "1MiB", "reset", "[]", "{}", "[x]", "{a: b}"}
	counts := map[string]int{}
	const rounds = 4000
	for i := 0; i < rounds; i++ {
		seed := seeds[rng.IntN(len(seeds))]
		var doc yaml.Node
		if err := yaml.Unmarshal(seed, &doc); err != nil || len(doc.Content) == 0 {
			continue
		}
		what := mutate(rng, &doc, values)
		out, err := yaml.Marshal(&doc)
		if err != nil {
			continue
		}
		loadErr := loadOne(out)
		schemaErr := schemaCheck(t, sch, out)
		switch {
		case loadErr == nil && schemaErr != nil:
			t.Errorf("mutation %d (%s): the loader accepts, the schema refuses:\n%s\n%v", i, what, out, schemaErr)
			counts["both accept"]-- // not counted below
		case loadErr == nil:
			counts["both accept"]++
		case schemaErr != nil:
			counts["both refuse"]++
		case onlyLoaderReasons(loadErr):
			counts["loader only, for a reason the schema cannot state"]++
		default:
			t.Errorf("mutation %d (%s): the loader refuses, the schema accepts:\n%s\nloader: %v", i, what, out, loadErr)
		}
	}
	t.Logf("%d mutations: %v", rounds, counts)
}

func onlyLoaderReasons(err error) bool {
	var ps scenarios.Problems
	if !errors.As(err, &ps) {
		return false
	}
	for _, p := range ps {
		found := false
		for _, r := range loaderOnlyReasons {
			if strings.Contains(p.Msg, r) {
				found = true
			}
		}
		if !found {
			return false
		}
	}
	return true
}

// mutate changes one random node of doc and says what it did.
func mutate(rng *rand.Rand, doc *yaml.Node, values []string) string {
	var maps []*yaml.Node
	var walk func(n *yaml.Node)
	walk = func(n *yaml.Node) {
		if n.Kind == yaml.MappingNode && len(n.Content) > 0 {
			maps = append(maps, n)
		}
		for _, c := range n.Content {
			walk(c)
		}
	}
	walk(doc)
	if len(maps) == 0 {
		return "nothing"
	}
	m := maps[rng.IntN(len(maps))]
	k := 2 * rng.IntN(len(m.Content)/2)
	key := m.Content[k].Value
	switch rng.IntN(4) {
	case 0:
		m.Content = append(m.Content[:k:k], m.Content[k+2:]...)
		return "delete " + key
	case 1:
		m.Content[k].Value = "x_" + key
		return "rename " + key
	default:
		v := values[rng.IntN(len(values))]
		var n yaml.Node
		if err := yaml.Unmarshal([]byte("v: "+v), &n); err != nil {
			return "nothing"
		}
		m.Content[k+1] = n.Content[0].Content[1]
		return "set " + key + " to " + v
	}
}
