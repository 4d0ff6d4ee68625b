// Package scenarios is msgmock's fixtures model: it loads the YAML files of a
// fixtures directory strictly (unknown keys are errors), reports every problem
// as FILE:LINE:COL: message, and publishes the result as an immutable *Set
// through an atomic Store that a watcher reloads.
//
// It never imports net/http or the mock packages: the server reads a *Set,
// it does not build one.
//
// # The scenario language
//
//   - sender_type and role name the same thing in a when (the sender's role
//     in either API), as text covers both text and content.content: a rule
//     for both APIs needs no duplicate. In a reply, sender_type is the
//     Conversations API's and role the Workspace API's.
//   - A rule with both an error respond and a reply is refused (the reply
//     would never be sent). inline belongs to the Workspace API: a rule with
//     an inline reply needs when: {api: workspace} and cannot have after or
//     stream.
//   - A reply template names only fields the data has (.Request.Text,
//     .SenderID, .SenderType, .Role, .ConversationID, .MessageID and any key
//     of .Request.Metadata or .Request.Headers): .Request.Nope is a load
//     error, not "<no value>" in every reply. Every template finishes:
//     {{template}}, {{define}} and {{block}} are refused (recursion), a range
//     runs over a literal count (at most 10,000) or a field of .Request, and
//     nested ranges ask for at most 100,000 turns in all. Output is capped at
//     64 KiB; functions that take counts are bounded; the image, Template and
//     struct-filling functions are not offered.
//   - Templates render with no lock shared between requests: the fake values
//     of a reply come from a seed the caller draws, so --seed fixes them.
//   - {absent: true} and {absent: false} test that a field a request may
//     leave out — a body field, a header, a metadata key — is missing (or
//     empty) or there; they stand alone (no ignore_case). method and path
//     are always there and take no absence.
//   - A regex compiles to at most 500 instructions and reads the first
//     16 KiB of a value (MaxRegexInput; past it, $ anchors at the cut): Go's
//     regexps are linear in the text, but the factor is the program, and a
//     rule runs on every request, a verification pattern on every journal
//     entry. The journal keeps 16 KiB of a body, so a verification sees no
//     more of a text than that anyway.
//
// # Patterns of the journal
//
// ParseVerification reads POST /__mock/verify's body with the reader that
// reads fixtures, so a pattern's when is a rule's when — the same keys,
// operators and compiled matchers — and every problem is located, in a
// file called "body". A pattern differs from a rule's when in one way: it
// reaches reads as well as sends without naming a method. When.Distance
// counts the conditions a request does not meet (allocating nothing);
// When.Differences lists them for reports and near misses.
//
// # Rate limits and stream profiles
//
//   - A rate limit is a fixed window (requests or characters, per) or a
//     token bucket (burst, refill: N/DURATION, unit); key defaults to
//     api_key, api to both APIs, headers to standard; retry_after_ms is on
//     with headers: openai. Names default to limit-N and are unique within
//     their list; a settings limit and a scenario's of the same name are
//     different windows.
//   - A reply's stream may name a profile: the built-in fast, realistic and
//     slow, or one of settings.stream_profiles (which may redefine a
//     built-in name). Each key the stream gives replaces the profile's —
//     interval and tokens_per_second are one key, the pace; faults replace
//     the profile's faults whole. A profile unknown to the settings is a
//     load error at the reference (an added scenario's, a 400); one a
//     later reload removes contributes nothing. The defaults, without a
//     profile, are word chunks 50ms apart, no first token, no jitter.
//   - A stream fault names its chunk (1-based, past the last means the
//     last) or none (drawn per reply); stall needs for, the others take
//     none; chance is seeded like a rule's.
//
// # Reply templates are bounded
//
// A template is bounded wherever it could make msgmock build a huge value
// or run long (template_funcs.go): gofakeit's functions with a count or a
// text argument are guarded, found by reflection; Generate and Template
// are not offered; the builtins that do work are replaced by counting ones
// (printf widths at most 1000); a render has a call, time and output budget
// and stops when its context ends (ErrTemplateBudget). What the text shows
// is refused at load. Templates hold only their parse tree: the ~300
// functions live in a small pool of workers shared by the process, so a
// scenario costs what its text costs (Scenario.Cost).
//
// # Fixtures
//
//   - Preloaded messages without id get a stable id derived from their
//     position, and without created_at the conversation's time plus one
//     minute per message; conversations without created_at are stamped
//     2026-01-01T09:00:00Z. generate: content is seeded from the file name
//     and position, not from --seed, so it is the same on every run and
//     reload; at most 1,000 conversations and 20,000 messages per entry.
//   - A fixtures file may be at most 4 MiB, and a YAML document may make the
//     loader visit at most 200,000 nodes (alias bombs stop there). A YAML
//     number or boolean where text is expected is read as its text.
//
// # Hot reload
//
// The watcher watches the whole tree (folders created later too), ignores
// hidden files and editor leftovers, and turns a burst of events into one
// reload (20 ms of quiet, at most 250 ms). A reload builds the complete new
// configuration and swaps it in only if every file is valid; otherwise the
// last good one keeps serving and the problems show in Status. A watcher's
// reload applies files only once two reads agree (Store.ReloadSettled): a
// file caught mid-save is not applied, and a file that defined something
// and now holds nothing is a problem, not "no settings" (delete the file to
// remove what it defined). The server may veto a reload (Store.SetGuard).
// Content
// that did not change publishes nothing (generation counts what was
// published), and only files whose content changed are parsed again.
package scenarios
