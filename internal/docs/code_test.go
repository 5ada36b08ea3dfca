package docs

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestGoSamples checks that every Go block of the docs is, byte for byte, a
// region of a Go file that the build compiles, so that no sample can drift
// from the API.
func TestGoSamples(t *testing.T) {
	t.Parallel()
	n := 0
	for _, b := range blocks(t) {
		if b.lang != "go" {
			if strings.HasPrefix(b.marker, "code:") {
				t.Errorf("%s: a code line above a %q block, not a go block", b, b.lang)
			}
			continue
		}
		fields := strings.Fields(strings.TrimPrefix(b.marker, "code:"))
		if !strings.HasPrefix(b.marker, "code:") || len(fields) != 2 {
			t.Errorf("%s: a Go sample without <!-- code: PATH REGION --> above it, naming the compiled code it quotes", b)
			continue
		}
		want, err := region(filepath.Join(root, fields[0]), fields[1])
		if err != nil {
			t.Errorf("%s: %v", b, err)
			continue
		}
		if b.text != want {
			t.Errorf("%s differs from region %s of %s: copy the code into the doc\n--- doc:\n%s--- code:\n%s", b, fields[1], fields[0], b.text, want)
		}
		n++
	}
	if n == 0 {
		t.Error("no Go sample found: is the root right?")
	}
}

// region returns the lines of the Go file at path between "// docs:begin
// name" and the next "// docs:end", with the indentation they share and
// trailing blank lines removed.
func region(path, name string) (string, error) {
	if !strings.HasSuffix(path, ".go") {
		return "", fmt.Errorf("%s is not a Go file", path)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return "", err
	}
	var lines []string
	in, found := false, false
	for line := range strings.SplitSeq(string(data), "\n") {
		switch trimmed := strings.TrimSpace(line); {
		case trimmed == "// docs:begin "+name:
			if found {
				return "", fmt.Errorf("%s: region %s begins twice", path, name)
			}
			in, found = true, true
		case in && trimmed == "// docs:end":
			in = false
		case in:
			lines = append(lines, line)
		}
	}
	switch {
	case !found:
		return "", fmt.Errorf("%s has no line // docs:begin %s", path, name)
	case in:
		return "", fmt.Errorf("%s: region %s has no // docs:end", path, name)
	}
	// gofmt may put a blank line before "// docs:end".
	for len(lines) > 0 && strings.TrimSpace(lines[len(lines)-1]) == "" {
		lines = lines[:len(lines)-1]
	}
	indent := -1 // the tabs the lines share
	for _, line := range lines {
		if n := len(line) - len(strings.TrimLeft(line, "\t")); strings.TrimSpace(line) != "" && (indent < 0 || n < indent) {
			indent = n
		}
	}
	var b strings.Builder
	for _, line := range lines {
		b.WriteString(strings.TrimPrefix(line, strings.Repeat("\t", max(indent, 0))) + "\n")
	}
	return b.String(), nil
}
