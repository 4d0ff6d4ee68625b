package importer

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
)

// shellWords splits a command line as bash does for the quoting that
// "Copy as cURL" writes: '…', "…", $'…' (ANSI-C escapes), backslash
// escapes and backslash-newline continuations, # comments. What a copied
// curl command never holds — expansions ($VAR, $(…), `…`), pipes,
// redirections, several commands — is refused, not half-understood.
func shellWords(s string) ([]string, error) {
	var words []string
	var cur strings.Builder
	inWord := false
	end := func() {
		if inWord {
			words = append(words, cur.String())
		}
		cur.Reset()
		inWord = false
	}
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			end()
			i++
		case c == '#' && !inWord:
			for i < len(s) && s[i] != '\n' {
				i++
			}
		case c == '\\':
			switch {
			case i+1 >= len(s):
				i++
			case s[i+1] == '\n':
				i += 2 // a continuation
			case s[i+1] == '\r' && i+2 < len(s) && s[i+2] == '\n':
				i += 3
			default:
				_, size := utf8.DecodeRuneInString(s[i+1:])
				cur.WriteString(s[i+1 : i+1+size])
				inWord = true
				i += 1 + size
			}
		case c == '\'':
			j := strings.IndexByte(s[i+1:], '\'')
			if j < 0 {
				return nil, errors.New("a ' quote is not closed")
			}
			cur.WriteString(s[i+1 : i+1+j])
			inWord = true
			i += j + 2
		case c == '"':
			n, err := doubleQuoted(s[i+1:], &cur)
			if err != nil {
				return nil, err
			}
			inWord = true
			i += n + 1
		case c == '$' && i+1 < len(s) && s[i+1] == '\'':
			n, err := ansiQuoted(s[i+2:], &cur)
			if err != nil {
				return nil, err
			}
			inWord = true
			i += n + 2
		case c == '$' && i+1 < len(s) && s[i+1] == '"':
			i++ // $"…" is "…" outside a translated locale
		case c == '$' && i+1 < len(s) && isExpansionStart(s[i+1]):
			return nil, fmt.Errorf("the command expands %s: paste the command with its values in place", clipWord(s[i:]))
		case c == '`':
			return nil, errors.New("the command substitutes `…`: paste the command with its values in place")
		case c == '|' || c == ';' || c == '&' || c == '<' || c == '>':
			return nil, fmt.Errorf("the command has %q outside quotes: give one curl command, without pipes, redirections or other commands", string(c))
		default:
			cur.WriteByte(c)
			inWord = true
			i++
		}
	}
	end()
	return words, nil
}

func isExpansionStart(c byte) bool {
	return c == '(' || c == '{' || c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
}

func clipWord(s string) string {
	if i := strings.IndexAny(s, " \t\n'\""); i > 0 {
		s = s[:i]
	}
	if len(s) > 20 {
		s = s[:20] + "…"
	}
	return s
}

// doubleQuoted reads the inside of "…" up to its closing quote, returning
// how many bytes it used (the quote included).
func doubleQuoted(s string, out *strings.Builder) (int, error) {
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '"':
			return i + 1, nil
		case '\\':
			if i+1 < len(s) {
				switch s[i+1] {
				case '$', '`', '"', '\\':
					out.WriteByte(s[i+1])
					i++
					continue
				case '\n':
					i++
					continue
				}
			}
			out.WriteByte(c)
		case '$':
			if i+1 < len(s) && isExpansionStart(s[i+1]) {
				return 0, fmt.Errorf("the command expands %s inside \"…\": paste the command with its values in place", clipWord(s[i:]))
			}
			out.WriteByte(c)
		case '`':
			return 0, errors.New("the command substitutes `…`: paste the command with its values in place")
		default:
			out.WriteByte(c)
		}
	}
	return 0, errors.New(`a " quote is not closed`)
}

// ansiQuoted reads the inside of $'…' (bash's ANSI-C quoting, which
// Chromium's "Copy as cURL (bash)" writes for bodies with quotes or
// control characters), returning how many bytes it used.
func ansiQuoted(s string, out *strings.Builder) (int, error) {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '\'' {
			return i + 1, nil
		}
		if c != '\\' || i+1 >= len(s) {
			out.WriteByte(c)
			continue
		}
		i++
		switch e := s[i]; e {
		case 'a':
			out.WriteByte('\a')
		case 'b':
			out.WriteByte('\b')
		case 'e', 'E':
			out.WriteByte(0x1b)
		case 'f':
			out.WriteByte('\f')
		case 'n':
			out.WriteByte('\n')
		case 'r':
			out.WriteByte('\r')
		case 't':
			out.WriteByte('\t')
		case 'v':
			out.WriteByte('\v')
		case '\\', '\'', '"', '?':
			out.WriteByte(e)
		case 'c':
			if i+1 < len(s) {
				i++
				out.WriteByte(s[i] & 0x1f)
			}
		case 'x', 'u', 'U':
			max := map[byte]int{'x': 2, 'u': 4, 'U': 8}[e]
			j := i + 1
			for j < len(s) && j-i-1 < max && isHex(s[j]) {
				j++
			}
			if j == i+1 {
				out.WriteByte('\\')
				out.WriteByte(e)
				continue
			}
			n, _ := strconv.ParseUint(s[i+1:j], 16, 32)
			if e == 'x' {
				out.WriteByte(byte(n))
			} else {
				out.WriteRune(rune(n))
			}
			i = j - 1
		default:
			if e >= '0' && e <= '7' {
				j := i
				for j < len(s) && j-i < 3 && s[j] >= '0' && s[j] <= '7' {
					j++
				}
				n, _ := strconv.ParseUint(s[i:j], 8, 16)
				out.WriteByte(byte(n))
				i = j - 1
				continue
			}
			out.WriteByte('\\')
			out.WriteByte(e)
		}
	}
	return 0, errors.New("a $' quote is not closed")
}

func isHex(c byte) bool {
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')
}
