package scenarios

// Check reports whether key may call the APIs under these auth settings,
// and returns its listing (zero for an unlisted key in mode any).
func (a Auth) Check(key string) (Token, bool) {
	if key == "" {
		return Token{}, false
	}
	tok, listed := a.Tokens[key]
	if listed && tok.Expired {
		return tok, false
	}
	if !listed && a.Mode == AuthListed {
		return tok, false
	}
	return tok, true
}
