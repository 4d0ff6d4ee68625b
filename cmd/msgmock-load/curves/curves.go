// Package curves is what issue 30's cost curves run on, shared by
// BenchmarkCurves (mock) and `.ci/perf curves` (through msgmock-load):
// the fixtures every curve's server loads and the messages that fill them.
//
// Every server of a run loads the same fixtures — the built-in ones with
// retention raised so that what is sent stays stored (1,000 conversations
// of up to 1,000 messages, 1 GiB of messages), 1,000 more conversations
// to fill (con_c000 …) and scenarios rules-1, rules-10, rules-100 and
// rules-1000 — and differs only in what it was sent before it is measured.
package curves

import (
	"fmt"
	"io/fs"
	"regexp"
	"strings"

	"github.com/msgmock/msgmock/fixtures"
)

// Conversations is how many conversations the fill writes into.
const Conversations = 1000

// Fixtures returns the curves' fixtures files, by name, with
// settings.retention.journal set to journal — or, with journal 0, the
// built-in settings as they are (48 MiB of messages: the budget-full curve).
//
// The last rule of each rules-N scenario answers the seed's request as the
// default scenario does (an AI reply to a user's message); each rule before
// it wants another exact text, as a scenario scripted question by question
// (or imported from a recording) does.
func Fixtures(journal int) (map[string][]byte, error) {
	files := map[string][]byte{}
	err := fs.WalkDir(fixtures.FS, ".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := fs.ReadFile(fixtures.FS, path)
		files[path] = data
		return err
	})
	if err != nil {
		return nil, err
	}
	settings := string(files["settings.yaml"])
	raised := [][2]string{{"conversations", "1000"}, {"messages_per_conversation", "1000"}, {"journal", fmt.Sprint(journal)}, {"message_bytes", "1GiB"}}
	if journal == 0 {
		raised = nil
	}
	for _, kv := range raised {
		re := regexp.MustCompile(`(?m)^(    ` + kv[0] + `: )\S+`)
		if !re.MatchString(settings) {
			return nil, fmt.Errorf("the built-in settings.yaml has no retention.%s", kv[0])
		}
		settings = re.ReplaceAllString(settings, "${1}"+kv[1])
	}
	files["settings.yaml"] = []byte(settings)

	var convs strings.Builder
	convs.WriteString("conversations:\n")
	for i := range Conversations {
		fmt.Fprintf(&convs, "  - id: %s\n", Conversation(i))
	}
	files["curve-conversations.yaml"] = []byte(convs.String())
	for _, n := range []int{1, 10, 100, 1000} {
		var y strings.Builder
		fmt.Fprintf(&y, "scenario:\n  name: rules-%d\n  rules:\n", n)
		for i := 0; i < n-1; i++ {
			fmt.Fprintf(&y, "    - {name: q%d, when: {api: conversations, text: \"Question number %d?\"}, reply: {after: 1s, text: \"Answer %d.\"}}\n", i, i, i)
		}
		y.WriteString("    - {name: last, when: {api: conversations, sender_type: user}, reply: {after: {min: 800ms, max: 2s}, sender_id: agt_assistant, text: \"{{ Sentence }}\"}}\n")
		files[fmt.Sprintf("rules-%d.yaml", n)] = []byte(y.String())
	}
	return files, nil
}

// Conversation is the id of the fill's i-th conversation (i mod 1,000).
func Conversation(i int) string { return fmt.Sprintf("con_c%03d", i%Conversations) }

// FillBody is the fill's i-th message: into conversation i mod 1,000,
// without a reply, a little different each time.
func FillBody(i int) string {
	return fmt.Sprintf(`{"conversation_id":"%s","sender_id":"usr_%d","sender_type":"user","text":"Message %d of the fill.","metadata":{"n":%d},"auto_reply":false}`, Conversation(i), i%97, i, i)
}
