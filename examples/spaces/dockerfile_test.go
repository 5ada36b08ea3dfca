package spaces

import (
	"bufio"
	"fmt"
	"os"
	"slices"
	"strings"
)

// stage is one FROM of a Dockerfile and the instructions under it.
type stage struct {
	from         string
	instructions []instruction
}

// instruction is one Dockerfile instruction, its continuation lines
// joined.
type instruction struct {
	op, args string
}

// parseDockerfile reads the stages of the Dockerfile at path.
func parseDockerfile(path string) ([]stage, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var stages []stage
	var line strings.Builder
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		text := strings.TrimSpace(sc.Text())
		if strings.HasPrefix(text, "#") || (text == "" && line.Len() == 0) {
			continue
		}
		if cont, ok := strings.CutSuffix(text, `\`); ok {
			line.WriteString(cont + " ")
			continue
		}
		line.WriteString(text)
		op, args, _ := strings.Cut(strings.TrimSpace(line.String()), " ")
		line.Reset()
		in := instruction{op: strings.ToUpper(op), args: strings.TrimSpace(args)}
		switch {
		case in.op == "FROM":
			stages = append(stages, stage{from: in.args})
		case len(stages) == 0:
			if in.op != "ARG" {
				return nil, fmt.Errorf("%s:%d: %s before FROM", path, n, in.op)
			}
		default:
			stages[len(stages)-1].instructions = append(stages[len(stages)-1].instructions, in)
		}
	}
	return stages, sc.Err()
}

// last returns the arguments of the stage's last op instruction.
func (s stage) last(op string) string {
	for _, in := range slices.Backward(s.instructions) {
		if in.op == op {
			return in.args
		}
	}
	return ""
}

// copySources returns the build-context files the stage's COPY
// instructions copy (not those copied from another stage).
func (s stage) copySources() []string {
	var srcs []string
	for _, in := range s.instructions {
		if in.op != "COPY" || strings.Contains(in.args, "--from=") {
			continue
		}
		var words []string
		for _, w := range strings.Fields(in.args) {
			if !strings.HasPrefix(w, "--") {
				words = append(words, w)
			}
		}
		if len(words) > 1 {
			srcs = append(srcs, words[:len(words)-1]...)
		}
	}
	return srcs
}

// goCommand is one go command of a RUN instruction, such as
// "CGO_ENABLED=0 go build -o /out/x .".
type goCommand struct {
	env  map[string]string
	sub  string
	args []string
}

// goCommands returns the go commands that the stage's RUN instructions
// run, in order.
func (s stage) goCommands() []goCommand {
	var cmds []goCommand
	for _, in := range s.instructions {
		if in.op != "RUN" {
			continue
		}
		var words []string
		for _, w := range append(shellWords(in.args), "&&") {
			if w != "&&" && w != ";" && w != "||" {
				words = append(words, w)
				continue
			}
			if c, ok := parseGoCommand(words); ok {
				cmds = append(cmds, c)
			}
			words = nil
		}
	}
	return cmds
}

// parseGoCommand reads words, a simple shell command, as a go command.
func parseGoCommand(words []string) (goCommand, bool) {
	c := goCommand{env: map[string]string{}}
	for len(words) > 0 {
		k, v, ok := strings.Cut(words[0], "=")
		if !ok || strings.HasPrefix(k, "-") {
			break
		}
		c.env[k] = v
		words = words[1:]
	}
	if len(words) < 2 || words[0] != "go" {
		return c, false
	}
	c.sub, c.args = words[1], words[2:]
	return c, true
}

// valueFlags are the go build flags whose value may be the next word.
var valueFlags = []string{"-C", "-asmflags", "-buildmode", "-gcflags", "-ldflags", "-mod", "-modfile", "-o", "-overlay", "-p", "-pkgdir", "-tags", "-toolexec"}

// packages returns the command's package (or module) arguments.
func (c goCommand) packages() []string {
	var pkgs []string
	for i := 0; i < len(c.args); i++ {
		a := c.args[i]
		switch {
		case !strings.HasPrefix(a, "-"):
			pkgs = append(pkgs, a)
		case slices.Contains(valueFlags, a):
			i++
		}
	}
	return pkgs
}

// withOutput returns the arguments of a go build command that writes its
// binary to path instead of where the Dockerfile writes it.
func (c goCommand) withOutput(path string) []string {
	args := []string{c.sub, "-o", path}
	for i := 0; i < len(c.args); i++ {
		if c.args[i] == "-o" {
			i++
			continue
		}
		args = append(args, c.args[i])
	}
	return args
}

// shellWords splits a shell command line into words, as sh does for one
// without expansions: quotes group and are removed, and a backslash
// escapes the next character outside single quotes.
func shellWords(s string) []string {
	var words []string
	var w strings.Builder
	inWord := false
	var quote rune
	escaped := false
	for _, r := range s {
		switch {
		case escaped:
			w.WriteRune(r)
			escaped = false
		case r == '\\' && quote != '\'':
			escaped, inWord = true, true
		case quote != 0 && r == quote:
			quote = 0
		case quote != 0:
			w.WriteRune(r)
		case r == '"' || r == '\'':
			quote, inWord = r, true
		case r == ' ' || r == '\t':
			if inWord {
				words = append(words, w.String())
				w.Reset()
				inWord = false
			}
		default:
			w.WriteRune(r)
			inWord = true
		}
	}
	if inWord {
		words = append(words, w.String())
	}
	return words
}
