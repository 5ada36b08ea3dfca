package docs

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
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

// markdownFiles lists README.md and the Markdown files under docs/ and
// examples/.
func markdownFiles(t *testing.T) []string {
	t.Helper()
	files := []string{"README.md"}
	for _, dir := range []string{"docs", "examples"} {
		err := filepath.WalkDir(filepath.Join(root, dir), func(path string, d os.DirEntry, err error) error {
			if err == nil && !d.IsDir() && strings.HasSuffix(path, ".md") {
				rel, _ := filepath.Rel(root, path)
				files = append(files, rel)
			}
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	return files
}

// marker matches the HTML comment that marks a sample.
var marker = regexp.MustCompile(`^<!--\s*(.*?)\s*-->$`)

// blocks returns the fenced blocks of the Markdown files.
func blocks(t *testing.T) []block {
	t.Helper()
	var all []block
	for _, file := range markdownFiles(t) {
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
