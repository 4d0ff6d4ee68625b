package mock

import "github.com/msgmock/msgmock/scenarios"

// checkKey reports whether key may call the APIs under set's auth settings,
// and returns its listing (zero for an unlisted key in mode any).
func checkKey(set *scenarios.Set, key string) (scenarios.Token, bool) {
	if key == "" {
		return scenarios.Token{}, false
	}
	tok, listed := set.Settings.Auth.Tokens[key]
	if listed && tok.Expired {
		return tok, false
	}
	if !listed && set.Settings.Auth.Mode == scenarios.AuthListed {
		return tok, false
	}
	return tok, true
}
