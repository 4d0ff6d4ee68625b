package mock

// ruleState is a session's runtime state of scenario rules: how often each
// rule has fired and where each scenario's state machine stands. It lives
// beside the published configuration, never in it.
type ruleState struct {
	hits   map[string]int
	states map[string]string
}
