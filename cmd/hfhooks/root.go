package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"

	"github.com/hfhooks/hfhooks/internal/redact"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// Exit codes, as cli/cli uses them.
const (
	exitOK      = 0
	exitFailure = 1
	exitUsage   = 2
)

// ioStreams are the standard streams a command reads and writes, injected so
// that tests can drive commands without a process.
type ioStreams struct {
	In     io.Reader
	Out    io.Writer
	ErrOut io.Writer
	// InTerminal, when set, says whether In is a terminal, for tests that
	// answer a question on a reader; nil asks the operating system.
	InTerminal *bool
}

// stdinIsTerminal reports whether In is an interactive terminal.
func (s *ioStreams) stdinIsTerminal() bool {
	if s.InTerminal != nil {
		return *s.InTerminal
	}
	f, ok := s.In.(*os.File)
	if !ok {
		return false
	}
	info, err := f.Stat()
	return err == nil && info.Mode()&os.ModeCharDevice != 0
}

// confirm asks question on stderr and reports whether the answer read from
// stdin is yes. Without a terminal to ask on (cron, CI, a pipe), it asks
// nothing and returns a usage error naming skip, the flag that answers yes
// in advance.
func confirm(s *ioStreams, question, skip string) (bool, error) {
	if !s.stdinIsTerminal() {
		return false, usageErrorf("%s stdin is not a terminal; pass %s", question, skip)
	}
	fmt.Fprintf(s.ErrOut, "%s [y/N] ", question)
	answer, _ := bufio.NewReader(s.In).ReadString('\n')
	a := strings.ToLower(strings.TrimSpace(answer))
	return a == "y" || a == "yes", nil
}

// usageError marks an error in how the command was called (exit code 2).
type usageError struct{ err error }

func (e *usageError) Error() string { return e.err.Error() }
func (e *usageError) Unwrap() error { return e.err }

// usageErrorf builds a usageError from a format.
func usageErrorf(format string, args ...any) error {
	return &usageError{err: fmt.Errorf(format, args...)}
}

// newRootCmd builds the hfhooks command tree.
func newRootCmd(s *ioStreams) *cobra.Command {
	root := &cobra.Command{
		Use:           "hfhooks",
		Short:         "Receive, send and manage Hugging Face Hub webhooks",
		Version:       buildVersion(),
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetVersionTemplate(versionLine())
	root.SetIn(s.In)
	root.SetOut(s.Out)
	root.SetErr(s.ErrOut)
	root.SetFlagErrorFunc(func(cmd *cobra.Command, err error) error {
		return &usageError{err: suggestFlag(cmd, err)}
	})
	root.AddCommand(
		newServeCmd(s),
		newTriggerCmd(s),
		newWebhooksCmd(s),
		newHubCmd(s),
		newRelayCmd(s),
		newListenCmd(s),
		newDeliveriesCmd(s),
		newVersionCmd(s),
	)
	root.InitDefaultCompletionCmd()
	root.InitDefaultHelpCmd()
	strictGroups(root)
	// "hfhooks help NOPE" is an unknown command too, where cobra would
	// print the root's help and exit 0.
	help, _, _ := root.Find([]string{"help"})
	help.Args = func(_ *cobra.Command, args []string) error {
		if c, rest, err := root.Find(args); err == nil && len(rest) > 0 {
			return unknownCommand(c, rest[0])
		}
		return nil
	}
	return root
}

// execute runs the command line args and returns the process exit code. The
// error it prints shows no password or query value of a URL.
func execute(ctx context.Context, args []string, s *ioStreams) int {
	root := newRootCmd(s)
	root.SetArgs(args)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return exitOK
	}
	err = cliError(err)
	fmt.Fprintln(s.ErrOut, "Error:", redact.String(err.Error()))
	// cobra.NoArgs, which cobra's own commands use, says "unknown command".
	if _, ok := errors.AsType[*usageError](err); ok || strings.HasPrefix(err.Error(), "unknown command") {
		return exitUsage
	}
	return exitFailure
}

// strictGroups walks the tree from cmd: a command that only groups others
// (hfhooks, webhooks, completion...) shows its help when called alone, and
// refuses anything else with a usage error, where cobra would show the help
// and exit 0 ("hfhooks webhooks rm ID && echo deleted" must not succeed).
func strictGroups(cmd *cobra.Command) {
	if cmd.HasSubCommands() && !cmd.Runnable() {
		cmd.Args = exactArgs()
		cmd.RunE = func(cmd *cobra.Command, _ []string) error { return cmd.Help() }
		cmd.DisableFlagsInUseLine = true
	}
	for _, c := range cmd.Commands() {
		strictGroups(c)
	}
}

// exactArgs is cobra.ExactArgs with a usage error (exit code 2) that names
// what is missing. An argument to a command with subcommands is taken for a
// mistyped subcommand, and answered with the nearest ones.
func exactArgs(names ...string) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		switch {
		case len(names) == 0 && len(args) > 0 && cmd.HasAvailableSubCommands():
			return unknownCommand(cmd, args[0])
		case len(names) == 0 && len(args) > 0:
			return usageErrorf("%s takes no arguments (got %q)", cmd.CommandPath(), args)
		case len(args) != len(names):
			noun := "arguments"
			if len(names) == 1 {
				noun = "argument"
			}
			return usageErrorf("%s takes %d %s: %s (got %d)", cmd.CommandPath(), len(names), noun, strings.Join(names, " "), len(args))
		}
		return nil
	}
}

// unknownCommand is the usage error for name, which is not a subcommand of
// cmd, with the subcommands whose names are near.
func unknownCommand(cmd *cobra.Command, name string) error {
	var near []string
	for _, c := range cmd.Commands() {
		if c.IsAvailableCommand() && (slices.Contains(c.SuggestFor, name) || len(nearNames(name, []string{c.Name()})) > 0) {
			near = append(near, c.Name())
		}
	}
	msg := fmt.Sprintf("unknown command %q for %q", name, cmd.CommandPath())
	if len(near) > 0 {
		msg += "; did you mean " + orList(near, strconv.Quote) + "?"
	}
	return usageErrorf("%s\nRun '%s --help' for usage.", msg, cmd.CommandPath())
}

// suggestFlag adds to an unknown flag error the flags of cmd whose names
// are near.
func suggestFlag(cmd *cobra.Command, err error) error {
	name, ok := strings.CutPrefix(err.Error(), "unknown flag: --")
	if !ok {
		return err
	}
	var names []string
	cmd.Flags().VisitAll(func(f *pflag.Flag) {
		if !f.Hidden {
			names = append(names, f.Name)
		}
	})
	near := nearNames(name, names)
	if len(near) == 0 {
		return err
	}
	return fmt.Errorf("%w; did you mean %s?", err, orList(near, func(s string) string { return "--" + s }))
}

// nearNames returns the names that start with typed or are at most two
// edits away from it.
func nearNames(typed string, names []string) []string {
	var near []string
	for _, n := range names {
		if strings.HasPrefix(n, typed) || editDistance(typed, n) <= 2 {
			near = append(near, n)
		}
	}
	return near
}

// orList shows items as "a", "a or b", "a, b or c", each through show.
func orList(items []string, show func(string) string) string {
	shown := make([]string, len(items))
	for i, it := range items {
		shown[i] = show(it)
	}
	if len(shown) == 1 {
		return shown[0]
	}
	return strings.Join(shown[:len(shown)-1], ", ") + " or " + shown[len(shown)-1]
}

// editDistance is the Levenshtein distance between a and b, in bytes.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
