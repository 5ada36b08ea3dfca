package main

import (
	"fmt"
	"runtime/debug"

	"github.com/spf13/cobra"
)

// version is the version of a release build, set with
// -ldflags "-X main.version=v1.2.3" (see scripts/release). Other builds
// take the module's version from their build information.
var version string

// versionLine is what "hfhooks version" and "hfhooks --version" print.
func versionLine() string {
	return "hfhooks version " + buildVersion() + "\n"
}

// buildVersion returns version when a release build set it, else the
// module's version as the go command recorded it: v1.2.3 for "go install
// github.com/hfhooks/hfhooks/cmd/hfhooks@v1.2.3", a pseudo-version
// (v0.0.0-DATE-COMMIT, +dirty with local changes) for a build in a git
// checkout, "(devel)" without either.
func buildVersion() string {
	if version != "" {
		return version
	}
	if info, ok := debug.ReadBuildInfo(); ok && info.Main.Version != "" {
		return info.Main.Version
	}
	return "(devel)"
}

// newVersionCmd builds "hfhooks version", which prints what --version
// prints.
func newVersionCmd(s *ioStreams) *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the version of hfhooks",
		Args:  exactArgs(),
		RunE: func(*cobra.Command, []string) error {
			_, err := fmt.Fprint(s.Out, versionLine())
			return err
		},
	}
}
