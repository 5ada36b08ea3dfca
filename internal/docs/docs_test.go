package docs

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// root is the repository's root, from this package's directory.
const root = "../.."

// A block is a fenced block of a Markdown file.
type block struct {
	file   string // relative to root
	line   int    // of the opening fence
	lang   string // the fence's info string
	marker string // the HTML comment on the line before the fence, if any
	text   string // the block's lines, each ending in "\n"
}

func (b block) String() string { return fmt.Sprintf("%s:%d", b.file, b.line) }

// repoFiles lists the files of the repository whose names end in one of
// suffixes, relative to root, leaving out hidden directories and testdata.
func repoFiles(t *testing.T, suffixes ...string) []string {
	t.Helper()
	var files []string
	err := filepath.WalkDir(root, func(path string, d os.DirEntry, err error) error {
		switch {
		case err != nil:
			return err
		case d.IsDir() && path != root && (strings.HasPrefix(d.Name(), ".") || d.Name() == "testdata"):
			return filepath.SkipDir
		case !d.IsDir() && slices.ContainsFunc(suffixes, func(s string) bool { return strings.HasSuffix(path, s) }):
			rel, _ := filepath.Rel(root, path)
			files = append(files, rel)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

// marker matches the HTML comment that marks a sample.
var marker = regexp.MustCompile(`^<!--\s*(.*?)\s*-->$`)

// blocks returns the fenced blocks of the Markdown files.
func blocks(t *testing.T) []block {
	t.Helper()
	var all []block
	for _, file := range repoFiles(t, ".md") {
		f, err := os.Open(filepath.Join(root, file))
		if err != nil {
			t.Fatal(err)
		}
		var (
			cur     *block
			fence   string // the open fence, with its indentation
			prev    string // the previous line outside blocks
			scanner = bufio.NewScanner(f)
			n       int
		)
		for scanner.Scan() {
			n++
			line := scanner.Text()
			trimmed := strings.TrimLeft(line, " ")
			indent := line[:len(line)-len(trimmed)]
			switch {
			case cur == nil && strings.HasPrefix(trimmed, "```"):
				cur = &block{file: file, line: n, lang: strings.TrimPrefix(trimmed, "```")}
				if m := marker.FindStringSubmatch(prev); m != nil {
					cur.marker = m[1]
				}
				fence = indent + "```"
			case cur != nil && line == fence:
				all = append(all, *cur)
				cur, prev = nil, "```"
			case cur != nil:
				cur.text += strings.TrimPrefix(line, fence[:len(fence)-3]) + "\n"
			default:
				if strings.TrimSpace(line) != "" {
					prev = strings.TrimSpace(line)
				}
			}
		}
		f.Close()
		if err := scanner.Err(); err != nil {
			t.Fatal(err)
		}
		if cur != nil {
			t.Errorf("%s: unclosed fence", cur)
		}
	}
	return all
}
