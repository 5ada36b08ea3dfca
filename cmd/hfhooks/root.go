package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/hfhooks/hfhooks/hub"
	"github.com/hfhooks/hfhooks/internal/redact"
	"github.com/spf13/cobra"
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
}

// stdinIsTerminal reports whether In is an interactive terminal.
func (s *ioStreams) stdinIsTerminal() bool {
	f, ok := s.In.(*os.File)
	if !ok {
		return false
	}
	info, err := f.Stat()
	return err == nil && info.Mode()&os.ModeCharDevice != 0
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
		Version:       hub.Version,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetIn(s.In)
	root.SetOut(s.Out)
	root.SetErr(s.ErrOut)
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return &usageError{err: err} })
	root.AddCommand(
		newServeCmd(s),
		newTriggerCmd(s),
		newWebhooksCmd(s),
		newHubCmd(s),
		newRelayCmd(s),
		newListenCmd(s),
		newDeliveriesCmd(s),
	)
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
	fmt.Fprintln(s.ErrOut, "Error:", redact.String(err.Error()))
	var usage *usageError
	if errors.As(err, &usage) || strings.HasPrefix(err.Error(), "unknown command") {
		return exitUsage
	}
	return exitFailure
}

// exactArgs is cobra.ExactArgs with a usage error (exit code 2) that names
// what is missing.
func exactArgs(names ...string) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(names) == 0 && len(args) > 0 {
			return usageErrorf("%s takes no arguments (got %q)", cmd.CommandPath(), args)
		}
		if len(args) != len(names) {
			return usageErrorf("%s takes %d argument(s): %s (got %d)", cmd.CommandPath(), len(names), strings.Join(names, " "), len(args))
		}
		return nil
	}
}
