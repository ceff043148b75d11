package rules

import (
	"errors"
	"fmt"
	"strings"
)

// A workload identity provider's attributeCondition is a CEL expression. The pack reads just
// enough of CEL to tell whether a condition is a conjunction one of whose terms pins a value by
// equality; anything it cannot read fails the rule rather than passing it.

// celToken is one token of a CEL expression.
type celToken struct {
	// str is true for a string literal, whose text is its unquoted value.
	str  bool
	text string
}

// celOperators are CEL's operators and punctuation, longest first.
var celOperators = []string{"==", "!=", "&&", "||", "<=", ">=", "<", ">", "!", "?", ":", "(", ")", "[", "]", "{", "}", ",", ".", "+", "-", "*", "/", "%"}

// celTokens splits a CEL expression into tokens. It refuses what it does not read: raw, bytes
// and triple-quoted strings, escapes other than \\, \' and \", comments.
func celTokens(expr string) ([]celToken, error) {
	var out []celToken
	for i := 0; i < len(expr); {
		c := expr[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			i++
		case c == '\'' || c == '"':
			s, n, err := celString(expr[i:])
			if err != nil {
				return nil, err
			}
			out = append(out, celToken{str: true, text: s})
			i += n
		case isIdentByte(c):
			j := i
			for j < len(expr) && isIdentByte(expr[j]) {
				j++
			}
			if j < len(expr) && (expr[j] == '\'' || expr[j] == '"') {
				return nil, fmt.Errorf("prefixed string literal %s%c at offset %d", expr[i:j], expr[j], i)
			}
			out = append(out, celToken{text: expr[i:j]})
			i = j
		case strings.HasPrefix(expr[i:], "//"):
			return nil, errors.New("comment")
		default:
			op := ""
			for _, o := range celOperators {
				if strings.HasPrefix(expr[i:], o) {
					op = o
					break
				}
			}
			if op == "" {
				return nil, fmt.Errorf("unexpected %q", c)
			}
			out = append(out, celToken{text: op})
			i += len(op)
		}
	}
	return out, nil
}

func isIdentByte(c byte) bool {
	return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

// celString reads the quoted string that s starts with, and returns its value and length.
func celString(s string) (string, int, error) {
	q := s[0]
	if strings.HasPrefix(s, strings.Repeat(string(q), 3)) {
		return "", 0, errors.New("triple-quoted string")
	}
	var b strings.Builder
	for i := 1; i < len(s); i++ {
		switch c := s[i]; {
		case c == q:
			return b.String(), i + 1, nil
		case c == '\\':
			if i+1 >= len(s) || !strings.ContainsRune(`\'"`, rune(s[i+1])) {
				return "", 0, errors.New("escape sequence")
			}
			b.WriteByte(s[i+1])
			i++
		case c == '\n':
			return "", 0, errors.New("newline in string")
		default:
			b.WriteByte(c)
		}
	}
	return "", 0, errors.New("unterminated string")
}

// celConjuncts returns the terms of a conjunction: toks split at && outside parentheses,
// parenthesized conjunctions flattened. ok is false when the expression is not a conjunction
// at its top level (an || or a ?: there admits what either side admits) or its parentheses do
// not balance. A term that holds an || inside parentheses is one term: it narrows the others.
func celConjuncts(toks []celToken) (terms [][]celToken, ok bool) {
	toks = unwrap(toks)
	depth, start := 0, 0
	for i, t := range toks {
		switch {
		case t.str:
		case t.text == "(" || t.text == "[" || t.text == "{":
			depth++
		case t.text == ")" || t.text == "]" || t.text == "}":
			depth--
			if depth < 0 {
				return nil, false
			}
		case depth > 0:
		case t.text == "||" || t.text == "?":
			return nil, false
		case t.text == "&&":
			terms = append(terms, toks[start:i])
			start = i + 1
		}
	}
	if depth != 0 {
		return nil, false
	}
	terms = append(terms, toks[start:])
	var out [][]celToken
	for _, term := range terms {
		if len(term) == 0 {
			return nil, false
		}
		if inner := unwrap(term); len(inner) < len(term) {
			if sub, ok := celConjuncts(inner); ok {
				out = append(out, sub...)
				continue
			}
		}
		out = append(out, term)
	}
	return out, true
}

// unwrap strips parentheses that enclose the whole of toks.
func unwrap(toks []celToken) []celToken {
	for len(toks) >= 2 && !toks[0].str && toks[0].text == "(" && closing(toks) == len(toks)-1 {
		toks = toks[1 : len(toks)-1]
	}
	return toks
}

// closing is the index of the parenthesis that closes toks[0], or -1.
func closing(toks []celToken) int {
	depth := 0
	for i, t := range toks {
		switch {
		case t.str:
		case t.text == "(":
			depth++
		case t.text == ")":
			depth--
			if depth == 0 {
				return i
			}
		}
	}
	return -1
}

// celPin returns the value a term pins the field root.name to by equality: the term is exactly
// `root.name == "value"` or `"value" == root.name`.
func celPin(term []celToken, root, name string) (string, bool) {
	field := func(ts []celToken) bool {
		return len(ts) == 3 && !ts[0].str && ts[0].text == root && !ts[1].str && ts[1].text == "." && !ts[2].str && ts[2].text == name
	}
	if len(term) != 5 {
		return "", false
	}
	switch {
	case field(term[:3]) && !term[3].str && term[3].text == "==" && term[4].str:
		return term[4].text, true
	case term[0].str && !term[1].str && term[1].text == "==" && field(term[2:]):
		return term[0].text, true
	}
	return "", false
}
