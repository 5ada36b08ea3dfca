package docs

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"unicode"
)

// link matches a Markdown link or image: [text](target).
var link = regexp.MustCompile(`\]\(([^)\s]+)\)`)

// anchors returns the anchors GitHub gives the headings of a Markdown file,
// and the links of the file outside code blocks, each with its line.
func anchors(path string) (map[string]bool, map[int][]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	ids := map[string]bool{}
	seen := map[string]int{}
	links := map[int][]string{}
	in := false
	lines := bufio.NewScanner(f)
	for n := 1; lines.Scan(); n++ {
		line := lines.Text()
		if strings.HasPrefix(strings.TrimSpace(line), "```") {
			in = !in
			continue
		}
		if in {
			continue
		}
		if title, ok := strings.CutPrefix(strings.TrimLeft(line, "#"), " "); ok && strings.HasPrefix(line, "#") {
			id := slug(title)
			if k := seen[id]; k > 0 {
				ids[fmt.Sprintf("%s-%d", id, k)] = true
			} else {
				ids[id] = true
			}
			seen[id]++
		}
		for _, m := range link.FindAllStringSubmatch(line, -1) {
			links[n] = append(links[n], m[1])
		}
	}
	return ids, links, lines.Err()
}

// slug is GitHub's anchor of a heading: lower case, without punctuation,
// spaces as dashes.
func slug(title string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(title) {
		switch {
		case r == ' ':
			b.WriteRune('-')
		case r == '-' || r == '_' || unicode.IsLetter(r) || unicode.IsDigit(r):
			b.WriteRune(r)
		}
	}
	return b.String()
}

// TestLinks checks that every relative link of the Markdown files points at
// a file of the repository, and at a heading of it when it names one.
func TestLinks(t *testing.T) {
	t.Parallel()
	files := repoFiles(t, ".md")
	ids := map[string]map[string]bool{}
	links := map[string]map[int][]string{}
	for _, file := range files {
		var err error
		if ids[file], links[file], err = anchors(filepath.Join(root, file)); err != nil {
			t.Fatal(err)
		}
	}
	for _, file := range files {
		for n, targets := range links[file] {
			for _, target := range targets {
				if strings.Contains(target, "://") || strings.HasPrefix(target, "mailto:") {
					continue
				}
				path, anchor, _ := strings.Cut(target, "#")
				dest := file
				if path != "" {
					dest = filepath.Join(filepath.Dir(file), path)
					if _, err := os.Stat(filepath.Join(root, dest)); err != nil {
						t.Errorf("%s:%d: %s: no such file", file, n, target)
						continue
					}
				}
				if anchor != "" && strings.HasSuffix(dest, ".md") && !ids[dest][anchor] {
					t.Errorf("%s:%d: %s: %s has no heading #%s", file, n, target, dest, anchor)
				}
			}
		}
	}
}
