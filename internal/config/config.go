// Package config loads hooks.yaml, the file with which "hfhooks serve
// --config" runs a command, forwards the delivery, comments on the event's
// discussion or posts to a chat for each event, without Go code. See
// examples/hooks.yaml for the format.
//
// A file is checked whole before anything starts: every problem is
// reported, each with the file, line, hook and key it is about.
package config

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"maps"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/hfhooks/hfhooks"
	"github.com/hfhooks/hfhooks/action"
	"github.com/hfhooks/hfhooks/internal/redact"
	"github.com/hfhooks/hfhooks/internal/signin"
)

// Config is a validated hooks.yaml.
type Config struct {
	// Secret is the file's secret, which hooks without their own use. It
	// may be empty.
	Secret string
	// Hooks are the hooks, in the file's order.
	Hooks []Hook
	// Allow lists who may sign in to the page (see hfhooks.WithOperators):
	// Hub user names and org:NAME.
	Allow []string
	// DedupWindow is the file's dedupWindow: with a durable queue, a
	// delivery that repeats one accepted less than this ago (same hook,
	// webhook id and body) is not run. Zero, the default, runs every
	// delivery.
	DedupWindow time.Duration
	// OnGiveUp is the file's onGiveUp, for hooks without their own; nil
	// when not set.
	OnGiveUp *GiveUpAction
}

// Action is what a hook, or an onGiveUp, does: exactly one field is set.
type Action struct {
	// Run is the command, when the action is run.
	Run *action.Command
	// Forward is the target, when the action is forward.
	Forward *action.Target
	// Comment is the reply, when the action is comment (not in an
	// onGiveUp).
	Comment *action.Reply
	// Notify is the message, when the action is notify.
	Notify *action.Message
}

// GiveUpAction is an onGiveUp: an action run once for each delivery that a
// durable queue gives up on.
type GiveUpAction struct {
	Action
	// Handler carries out the action.
	Handler hfhooks.GiveUpFunc
}

// Hook is one hook of the file, served at /webhooks/<Name>.
type Hook struct {
	// Name is the hook's name, the last segment of its path.
	Name string
	// Secret is the secret deliveries must carry: the hook's own, else the
	// file's. It may be empty.
	Secret string
	// Filter selects the deliveries the hook acts on; the others are to be
	// answered 200 {"status":"ignored"}.
	Filter hfhooks.Filter
	// Action is the hook's action.
	Action
	// OnGiveUp is the hook's onGiveUp, else the file's; nil when neither
	// is set.
	OnGiveUp *GiveUpAction
	// Timeout bounds one run of the action: run.timeout, forward.timeout or
	// notify.timeout (action.DefaultForwardTimeout when not set, and for a
	// comment). Zero (a command without a timeout) leaves it to the queue's
	// attempt timeout.
	Timeout time.Duration
	// Concurrency is how many of the hook's deliveries may run at once:
	// run.concurrency. Zero means the server's default.
	Concurrency int
	// Handler carries out the action.
	Handler hfhooks.HandlerFunc
	// Line is the line of the file where the hook starts.
	Line int
}

// Error is one problem found in a file.
type Error struct {
	File string
	Line int
	// Hook names the hook the problem is in (`hook "retrain"`, or
	// `hook 2` when it has no valid name); empty at the top level.
	Hook string
	// Key is the dotted key the problem is about, such as "run.timeout".
	Key string
	Err error
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Line > 0 {
		b.WriteString(":" + strconv.Itoa(e.Line))
	}
	b.WriteString(": ")
	if e.Hook != "" {
		b.WriteString(e.Hook + ": ")
	}
	if e.Key != "" {
		b.WriteString(e.Key + ": ")
	}
	b.WriteString(e.Err.Error())
	return b.String()
}

// Unwrap returns the underlying error.
func (e *Error) Unwrap() error { return e.Err }

// Load reads and validates the file at path. Relative paths in it (run.dir
// and commands such as ./train.sh) are relative to the file's directory.
func Load(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return Parse(path, data)
}

// Parse validates data, the content of the file called name. It returns
// every problem found, joined (errors.Join), each an *Error, sorted by line.
// Commands are looked up, and ${VAR} references expanded, as Parse runs.
func Parse(name string, data []byte) (*Config, error) {
	d := &decoder{file: name, dir: filepath.Dir(name)}
	cfg := d.config(data)
	if len(d.errs) > 0 {
		slices.SortStableFunc(d.errs, func(a, b *Error) int { return a.Line - b.Line })
		errs := make([]error, len(d.errs))
		for i, e := range d.errs {
			errs[i] = e
		}
		return nil, errors.Join(errs...)
	}
	for i := range cfg.Hooks {
		h := &cfg.Hooks[i]
		switch {
		case h.Run != nil:
			h.Handler = action.Run(*h.Run)
			h.Timeout = h.Run.Timeout
		case h.Forward != nil:
			h.Handler = action.Forward(*h.Forward)
			h.Timeout = cmp.Or(h.Forward.Timeout, action.DefaultForwardTimeout)
		case h.Comment != nil:
			h.Handler = action.Comment(*h.Comment)
			h.Timeout = action.DefaultForwardTimeout
		case h.Notify != nil:
			h.Handler = action.Notify(*h.Notify)
			h.Timeout = cmp.Or(h.Notify.Timeout, action.DefaultForwardTimeout)
		}
		if h.OnGiveUp == nil {
			h.OnGiveUp = cfg.OnGiveUp
		}
	}
	return cfg, nil
}

// GiveUp runs the onGiveUp of the hook that g's delivery was for (its own,
// else the file's), or the file's for a hook that is no longer in the file;
// it does nothing when there is none. It is the give-up hook of the queue
// (queue.WithGiveUp) of "hfhooks serve --config".
func (c *Config) GiveUp(ctx context.Context, g *hfhooks.GiveUp) error {
	on := c.OnGiveUp
	if i := slices.IndexFunc(c.Hooks, func(h Hook) bool { return h.Name == g.Delivery.Endpoint }); i >= 0 {
		on = c.Hooks[i].OnGiveUp
	}
	if on == nil {
		return nil
	}
	return on.Handler(ctx, g)
}

// decoder walks the YAML nodes of a file and collects its problems.
type decoder struct {
	file string
	dir  string // the file's directory, base of relative paths
	hook string // the hook being decoded, for Error.Hook
	// within prefixes Error.Key: "onGiveUp." while an onGiveUp is decoded.
	within string
	errs   []*Error
}

func (d *decoder) errorf(n *yaml.Node, key, format string, args ...any) {
	d.errs = append(d.errs, &Error{File: d.file, Line: n.Line, Hook: d.hook, Key: strings.TrimSuffix(d.within+key, "."), Err: fmt.Errorf(format, args...)})
}

// yamlError matches the position in the parser's errors.
var yamlError = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

func (d *decoder) config(data []byte) *Config {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		e := &Error{File: d.file, Err: err}
		if m := yamlError.FindStringSubmatch(err.Error()); m != nil {
			e.Line, _ = strconv.Atoi(m[1])
			e.Err = errors.New(m[2])
		}
		d.errs = append(d.errs, e)
		return nil
	}
	if len(doc.Content) == 0 {
		d.errs = append(d.errs, &Error{File: d.file, Err: errors.New("the file is empty: want a list of hooks")})
		return nil
	}
	cfg := &Config{}
	var secret, hooks, onGiveUp *yaml.Node
	d.fields(doc.Content[0], "", map[string]func(*yaml.Node){
		"secret":      func(n *yaml.Node) { secret = n },
		"hooks":       func(n *yaml.Node) { hooks = n },
		"onGiveUp":    func(n *yaml.Node) { onGiveUp = n },
		"dedupWindow": func(n *yaml.Node) { cfg.DedupWindow = d.window(n, "dedupWindow") },
		"allow": func(n *yaml.Node) {
			for _, item := range d.list(n, "allow", func(string) {}) {
				if err := signin.CheckOperator(item.Value); err != nil {
					d.errorf(item, "allow", "%v", err)
					continue
				}
				cfg.Allow = append(cfg.Allow, item.Value)
			}
		},
	})
	// The file's secret first: hooks without one of their own use it.
	if secret != nil {
		cfg.Secret, _ = d.expanded(secret, "secret")
	}
	if onGiveUp != nil {
		cfg.OnGiveUp = d.onGiveUp(onGiveUp, cfg.Secret, hfhooks.Filter{})
	}
	if hooks == nil {
		d.errorf(doc.Content[0], "hooks", "missing: list the hooks")
		return cfg
	}
	items, ok := d.sequence(hooks, "hooks")
	if ok && len(items) == 0 {
		d.errorf(hooks, "hooks", "empty: list at least one hook")
	}
	seen := map[string]int{} // name → line of the hook
	for i, n := range items {
		h := d.decodeHook(i, n, cfg.Secret)
		if h.Name == "" {
			continue
		}
		if line, dup := seen[h.Name]; dup {
			_, name := lookup(resolve(n), "name")
			d.errorf(name, "name", "%q is already the name of the hook at line %d", h.Name, line)
			continue
		}
		seen[h.Name] = h.Line
		cfg.Hooks = append(cfg.Hooks, h)
	}
	d.hook = ""
	return cfg
}

// validName is what a hook's name may hold: it becomes a URL path segment.
var validName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]*$`)

// decodeHook decodes the i-th hook. fileSecret is the file's secret.
func (d *decoder) decodeHook(i int, n *yaml.Node, fileSecret string) Hook {
	n = resolve(n)
	h := Hook{Line: n.Line}
	d.hook = "hook " + strconv.Itoa(i+1)
	var st actionState
	var onGiveUp *yaml.Node
	// The name first, so that errors name the hook.
	_, nameNode := lookup(n, "name")
	if nameNode != nil {
		if name, ok := d.scalar(nameNode, "name"); ok {
			if validName.MatchString(name) {
				h.Name = name
				d.hook = "hook " + strconv.Quote(name)
			} else {
				d.errorf(nameNode, "name", `invalid name %q: use letters, digits, ".", "_" and "-" (it is served at /webhooks/<name>)`, name)
			}
		}
	}
	fields := d.actions(n, &h.Action, &st)
	fields["name"] = func(*yaml.Node) {} // decoded above
	fields["secret"] = func(v *yaml.Node) { h.Secret, _ = d.expanded(v, "secret") }
	fields["filter"] = func(v *yaml.Node) { h.Filter = d.filter(v) }
	fields["onGiveUp"] = func(v *yaml.Node) { onGiveUp = v }
	if !d.fields(n, "", fields) {
		return Hook{}
	}
	if nameNode == nil {
		d.errorf(n, "name", "missing: every hook needs a name, which gives its path /webhooks/<name>")
	}
	if h.Secret == "" {
		h.Secret = fileSecret
	}
	h.Concurrency = st.concurrency
	st.check(d, n, &h.Action, h.Secret, h.Filter, "run, forward, comment or notify")
	if onGiveUp != nil {
		h.OnGiveUp = d.onGiveUp(onGiveUp, h.Secret, h.Filter)
	}
	return h
}

// actionState is what decoding the action of a mapping finds besides the
// action itself.
type actionState struct {
	first          *yaml.Node   // the key of the action
	passSecret     *yaml.Node   // run.passSecret, when it is true
	concurrency    int          // run.concurrency
	text           *templateKey // the template of a comment or notify
	needDiscussion bool         // a comment needs a discussion to comment on
}

// actions returns the decoders of the action keys of mapping n (run,
// forward, comment, notify) into a, and what else they find into st. A
// mapping has one action.
func (d *decoder) actions(n *yaml.Node, a *Action, st *actionState) map[string]func(*yaml.Node) {
	one := func(key string, decode func(*yaml.Node)) func(*yaml.Node) {
		return func(v *yaml.Node) {
			if st.first != nil {
				d.errorf(v, key, "a hook has one action, and this one already has %s (line %d)", st.first.Value, st.first.Line)
				return
			}
			st.first, _ = lookup(n, key)
			decode(v)
		}
	}
	return map[string]func(*yaml.Node){
		"run":     one("run", func(v *yaml.Node) { a.Run, st.passSecret = d.command(v, &st.concurrency) }),
		"forward": one("forward", func(v *yaml.Node) { a.Forward = d.target(v) }),
		// The bots' actions: their templates are checked by check, once
		// the filter is known.
		"comment": one("comment", func(v *yaml.Node) {
			a.Comment, st.text = d.reply(v)
			st.needDiscussion = true
		}),
		"notify": one("notify", func(v *yaml.Node) { a.Notify, st.text = d.message(v) }),
	}
}

// check reports a mapping n without an action (choices names the actions
// it may have), checks the templates of a on samples of the events f lets
// through, and passes secret to a command that asked for it.
func (st *actionState) check(d *decoder, n *yaml.Node, a *Action, secret string, f hfhooks.Filter, choices string) {
	if st.first == nil {
		d.errorf(n, "", "no action: add %s", choices)
	} else if st.text != nil || st.needDiscussion {
		d.checkTemplates(f, st.first, st.needDiscussion, st.text)
	}
	if st.passSecret != nil && a.Run != nil {
		if secret == "" {
			d.errorf(st.passSecret, "run.passSecret", "there is no secret to pass: set secret on the hook or at the top of the file")
		}
		a.Run.Secret = secret
	}
}

// onGiveUp decodes an onGiveUp: one action, run, forward or notify, to
// which run.passSecret gives secret, and whose template is checked on
// samples of the events f lets through.
func (d *decoder) onGiveUp(n *yaml.Node, secret string, f hfhooks.Filter) *GiveUpAction {
	d.within = "onGiveUp."
	defer func() { d.within = "" }()
	g := &GiveUpAction{}
	var st actionState
	fields := d.actions(resolve(n), &g.Action, &st)
	delete(fields, "comment") // a give-up may have no discussion to comment on
	if !d.fields(n, "", fields) {
		return nil
	}
	if st.text != nil {
		st.text.giveUp = true
	}
	st.check(d, resolve(n), &g.Action, secret, f, "run, forward or notify")
	if st.concurrency > 0 {
		_, run := lookup(resolve(n), "run")
		_, c := lookup(resolve(run), "concurrency")
		d.errorf(c, "run.concurrency", "not used by onGiveUp: the queue runs give-ups with its own workers")
	}
	switch {
	case g.Run != nil:
		g.Handler = action.RunOnGiveUp(*g.Run)
	case g.Forward != nil:
		g.Handler = action.ForwardOnGiveUp(*g.Forward)
	case g.Notify != nil:
		g.Handler = action.NotifyOnGiveUp(*g.Notify)
	}
	return g
}

// filter decodes a hook's filter.
func (d *decoder) filter(n *yaml.Node) hfhooks.Filter {
	var f hfhooks.Filter
	nodes := map[string][]*yaml.Node{} // the values' nodes, by field
	list := func(key string, set func([]string)) func(*yaml.Node) {
		return func(v *yaml.Node) {
			var values []string
			nodes[key] = d.list(v, "filter."+key, func(s string) { values = append(values, s) })
			set(values)
		}
	}
	d.fields(n, "filter.", map[string]func(*yaml.Node){
		"scopes":    list("scopes", func(v []string) { f.Scopes = v }),
		"actions":   list("actions", func(v []string) { f.Actions = convert[hfhooks.Action](v) }),
		"repoTypes": list("repoTypes", func(v []string) { f.RepoTypes = convert[hfhooks.RepoType](v) }),
		"repos":     list("repos", func(v []string) { f.Repos = v }),
		"refs":      list("refs", func(v []string) { f.Refs = v }),
		"kind": func(v *yaml.Node) {
			s, _ := d.scalar(v, "filter.kind")
			f.Kind = hfhooks.DiscussionKind(s)
			nodes["kind"] = []*yaml.Node{v}
		},
	})
	if err, ok := f.Validate().(interface{ Unwrap() []error }); ok {
		for _, err := range err.Unwrap() {
			if fe := (*hfhooks.FilterError)(nil); errors.As(err, &fe) {
				d.errorf(nodes[fe.Field][fe.Index], "filter."+fe.Field, "%w", fe.Err)
			}
		}
	}
	return f
}

// convert converts a list of strings to a list of a string type.
func convert[T ~string](values []string) []T {
	out := make([]T, len(values))
	for i, v := range values {
		out[i] = T(v)
	}
	return out
}

// command decodes a run action, and its concurrency into concurrency.
// passSecret is the node of passSecret when it is true.
func (d *decoder) command(n *yaml.Node, concurrency *int) (cmd *action.Command, passSecret *yaml.Node) {
	cmd = &action.Command{}
	var command, dir *yaml.Node
	ok := d.fields(n, "run.", map[string]func(*yaml.Node){
		"command": func(v *yaml.Node) {
			command = v
			if resolve(v).Kind != yaml.SequenceNode {
				d.errorf(v, "run.command", "want a list of arguments, such as [python, train.py]: no shell is involved")
				return
			}
			d.list(v, "run.command", func(s string) { cmd.Args = append(cmd.Args, s) })
		},
		"dir": func(v *yaml.Node) {
			dir = v
			cmd.Dir, _ = d.scalar(v, "run.dir")
		},
		"env":         func(v *yaml.Node) { cmd.Env = d.stringMap(v, "run.env", nil) },
		"timeout":     func(v *yaml.Node) { cmd.Timeout = d.duration(v, "run.timeout") },
		"concurrency": func(v *yaml.Node) { *concurrency = d.count(v, "run.concurrency") },
		"maxOutput":   func(v *yaml.Node) { cmd.MaxOutput = d.count(v, "run.maxOutput") },
		"passSecret": func(v *yaml.Node) {
			var pass bool
			if v = resolve(v); v.Tag != "!!bool" || v.Decode(&pass) != nil {
				d.errorf(v, "run.passSecret", "want true or false, not %q", v.Value)
			} else if pass {
				passSecret = v
			}
		},
	})
	if !ok {
		return cmd, nil
	}
	if command == nil {
		d.errorf(n, "run.command", "missing: say which program to run, as a list such as [python, train.py]")
		return cmd, passSecret
	}
	// Relative directories and commands are relative to the file.
	shown := d.dir // the directory as messages show it
	if cmd.Dir != "" {
		shown = cmd.Dir
		if !filepath.IsAbs(cmd.Dir) {
			shown = filepath.Join(d.dir, cmd.Dir)
		}
		if fi, err := os.Stat(shown); err != nil || !fi.IsDir() {
			d.errorf(dir, "run.dir", "%s is not a directory", shown)
			return cmd, passSecret
		}
	}
	abs, err := filepath.Abs(shown)
	if err != nil {
		d.errorf(n, "run.dir", "%w", err)
	}
	cmd.Dir = abs
	if len(cmd.Args) == 0 {
		if resolve(command).Kind == yaml.SequenceNode {
			d.errorf(command, "run.command", "empty: say which program to run")
		}
		return cmd, passSecret
	}
	if err := checkProgram(cmd.Args[0], shown); err != nil {
		d.errorf(command, "run.command", "%w", err)
	}
	return cmd, passSecret
}

// checkProgram checks that prog can be started: found in PATH when it is a
// bare name, else an executable file (relative to dir).
func checkProgram(prog, dir string) error {
	if !strings.Contains(prog, "/") {
		if _, err := exec.LookPath(prog); err != nil {
			return fmt.Errorf("%q is not in PATH", prog)
		}
		return nil
	}
	path := prog
	if !filepath.IsAbs(prog) {
		path = filepath.Join(dir, prog)
	}
	fi, err := os.Stat(path)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return fmt.Errorf("%s does not exist", path)
	case err != nil:
		return err
	case fi.IsDir():
		return fmt.Errorf("%s is a directory", path)
	case fi.Mode()&0o111 == 0:
		return fmt.Errorf("%s is not executable (chmod +x it)", path)
	}
	return nil
}

// target decodes a forward action.
func (d *decoder) target(n *yaml.Node) *action.Target {
	t := &action.Target{}
	var u *yaml.Node
	ok := d.fields(n, "forward.", map[string]func(*yaml.Node){
		"url": func(v *yaml.Node) {
			u = v
			t.URL, _ = d.expanded(v, "forward.url")
		},
		"headers": func(v *yaml.Node) { t.Headers = d.stringMap(v, "forward.headers", checkHeader) },
		"secret":  func(v *yaml.Node) { t.Secret, _ = d.expanded(v, "forward.secret") },
		"timeout": func(v *yaml.Node) { t.Timeout = d.duration(v, "forward.timeout") },
	})
	switch parsed, err := url.Parse(t.URL); {
	case !ok:
	case u == nil:
		d.errorf(n, "forward.url", "missing: say where to POST deliveries")
	case t.URL == "":
	case err != nil || parsed.Scheme != "http" && parsed.Scheme != "https" || parsed.Host == "":
		d.errorf(u, "forward.url", "invalid URL %q: want http://host/... or https://host/...", redact.URL(u.Value))
	}
	return t
}

// checkHeader refuses header names HTTP does not allow, and the secret
// header, which forward.secret sets.
func checkHeader(name string) error {
	if strings.EqualFold(name, hfhooks.SecretHeader) {
		return errors.New("set the target's secret with forward.secret")
	}
	if name == "" || strings.ContainsFunc(name, func(r rune) bool {
		return r <= ' ' || r >= 0x7f || strings.ContainsRune(`"(),/:;<=>?@[\]{}`, r)
	}) {
		return errors.New("invalid header name")
	}
	return nil
}

// fields calls set[key] with the value of each key of mapping n, and
// reports keys that are unknown or repeated. prefix is the path of n for
// messages. It returns false when n is not a mapping.
func (d *decoder) fields(n *yaml.Node, prefix string, set map[string]func(*yaml.Node)) bool {
	n = resolve(n)
	if n.Kind != yaml.MappingNode {
		known := slices.Sorted(maps.Keys(set))
		d.errorf(n, strings.TrimSuffix(prefix, "."), "want a mapping with keys among %s", strings.Join(known, ", "))
		return false
	}
	seen := map[string]int{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if line, dup := seen[k.Value]; dup {
			d.errorf(k, prefix+k.Value, "repeated (first at line %d)", line)
			continue
		}
		seen[k.Value] = k.Line
		f, ok := set[k.Value]
		if !ok {
			known := slices.Sorted(maps.Keys(set))
			d.errorf(k, prefix+k.Value, "unknown key (known keys: %s)", strings.Join(known, ", "))
			continue
		}
		f(v)
	}
	return true
}

// scalar returns the value of a scalar node, whatever its YAML type (so
// that 8080 or true can be strings), and reports any other node.
func (d *decoder) scalar(n *yaml.Node, key string) (string, bool) {
	n = resolve(n)
	switch {
	case n.Kind != yaml.ScalarNode:
		d.errorf(n, key, "want a single value, not a %s", kindName(n.Kind))
		return "", false
	case n.Tag == "!!null":
		d.errorf(n, key, "missing value")
		return "", false
	}
	return n.Value, true
}

// expanded returns a scalar with its ${VAR} references expanded.
func (d *decoder) expanded(n *yaml.Node, key string) (string, bool) {
	s, ok := d.scalar(n, key)
	if !ok {
		return "", false
	}
	s, err := expand(s)
	if err != nil {
		d.errorf(n, key, "%w", err)
		return "", false
	}
	return s, true
}

// envRef matches ${NAME}, and $${NAME}, which stands for ${NAME} itself.
var envRef = regexp.MustCompile(`\$?\$\{([A-Za-z_][A-Za-z0-9_]*)\}`)

// expand replaces each ${NAME} in s with the value of environment variable
// NAME, which must be set and not empty (an empty secret would turn the
// check off); $${NAME} gives ${NAME}.
func expand(s string) (string, error) {
	var unset []string
	out := envRef.ReplaceAllStringFunc(s, func(ref string) string {
		if strings.HasPrefix(ref, "$$") {
			return ref[1:]
		}
		name := ref[2 : len(ref)-1]
		v := os.Getenv(name)
		if v == "" {
			unset = append(unset, name)
		}
		return v
	})
	switch len(unset) {
	case 0:
		return out, nil
	case 1:
		return "", fmt.Errorf("environment variable %s is not set, or empty", unset[0])
	}
	return "", fmt.Errorf("environment variables %s are not set, or empty", strings.Join(unset, ", "))
}

// list calls add with each value of a list of scalars; a single scalar is a
// list of one. It returns the nodes of the values it added.
func (d *decoder) list(n *yaml.Node, key string, add func(string)) []*yaml.Node {
	n = resolve(n)
	items := []*yaml.Node{n}
	if n.Kind == yaml.SequenceNode {
		items = n.Content
	}
	var added []*yaml.Node
	for _, item := range items {
		if s, ok := d.scalar(item, key); ok {
			add(s)
			added = append(added, item)
		}
	}
	return added
}

// sequence returns the items of a sequence node.
func (d *decoder) sequence(n *yaml.Node, key string) ([]*yaml.Node, bool) {
	n = resolve(n)
	if n.Kind != yaml.SequenceNode {
		d.errorf(n, key, "want a list, not a %s", kindName(n.Kind))
		return nil, false
	}
	return n.Content, true
}

// stringMap decodes a mapping of names to values, with ${VAR} references
// expanded in the values. check, when not nil, checks each name.
func (d *decoder) stringMap(n *yaml.Node, key string, check func(string) error) map[string]string {
	n = resolve(n)
	if n.Kind != yaml.MappingNode {
		d.errorf(n, key, "want a mapping of names to values, not a %s", kindName(n.Kind))
		return nil
	}
	m := make(map[string]string, len(n.Content)/2)
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if check != nil {
			if err := check(k.Value); err != nil {
				d.errorf(k, key+"."+k.Value, "%w", err)
				continue
			}
		}
		if _, dup := m[k.Value]; dup {
			d.errorf(k, key+"."+k.Value, "repeated")
			continue
		}
		if s, ok := d.expanded(v, key+"."+k.Value); ok {
			m[k.Value] = s
		}
	}
	return m
}

// duration decodes a positive duration such as 30s or 10m.
func (d *decoder) duration(n *yaml.Node, key string) time.Duration {
	s, ok := d.scalar(n, key)
	if !ok {
		return 0
	}
	v, err := time.ParseDuration(s)
	if err != nil || v <= 0 {
		d.errorf(n, key, "invalid duration %q: want a positive number with a unit, such as 30s, 10m or 2h", s)
		return 0
	}
	return v
}

// window decodes a duration that may be 0, meaning off.
func (d *decoder) window(n *yaml.Node, key string) time.Duration {
	s, ok := d.scalar(n, key)
	if !ok {
		return 0
	}
	v, err := time.ParseDuration(s)
	if err != nil || v < 0 {
		d.errorf(n, key, "invalid duration %q: want 0 (off, the default) or a duration such as 10m or 24h", s)
		return 0
	}
	return v
}

// count decodes a non-negative integer.
func (d *decoder) count(n *yaml.Node, key string) int {
	s, ok := d.scalar(n, key)
	if !ok {
		return 0
	}
	v, err := strconv.Atoi(s)
	if err != nil || v < 0 || resolve(n).Tag != "!!int" {
		d.errorf(n, key, "invalid number %q: want a whole number, 0 or more", s)
		return 0
	}
	return v
}

// resolve follows an alias to the node it names.
func resolve(n *yaml.Node) *yaml.Node {
	for n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	return n
}

// lookup returns the key and value nodes of key in mapping n, or nils.
func lookup(n *yaml.Node, key string) (k, v *yaml.Node) {
	if n.Kind != yaml.MappingNode {
		return nil, nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return n.Content[i], n.Content[i+1]
		}
	}
	return nil, nil
}

// kindName names a node's kind in messages.
func kindName(k yaml.Kind) string {
	switch k {
	case yaml.MappingNode:
		return "mapping"
	case yaml.SequenceNode:
		return "list"
	}
	return "single value"
}
