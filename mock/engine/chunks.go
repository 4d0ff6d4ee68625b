package engine

import (
	"strings"
	"unicode/utf8"

	"github.com/msgmock/msgmock/scenarios"
)

// chunks splits a streamed reply's text into its message.delta pieces:
// words (each with the space after it), characters, or runs of N
// characters. Concatenated, the pieces are the text again.
func chunks(text string, st *scenarios.Stream) []string {
	if st == nil || text == "" {
		return nil
	}
	var out []string
	switch st.Chunk {
	case scenarios.ChunkWord:
		for len(text) > 0 {
			i := strings.IndexAny(text, " \n\t")
			if i < 0 {
				out = append(out, text)
				break
			}
			j := i
			for j < len(text) && (text[j] == ' ' || text[j] == '\n' || text[j] == '\t') {
				j++
			}
			out = append(out, text[:j])
			text = text[j:]
		}
	default:
		size := st.Size
		if st.Chunk == scenarios.ChunkChar {
			size = 1
		}
		for len(text) > 0 {
			i, n := 0, 0
			for i < len(text) && n < size {
				_, w := utf8.DecodeRuneInString(text[i:])
				i += w
				n++
			}
			out = append(out, text[:i])
			text = text[i:]
		}
	}
	return out
}
