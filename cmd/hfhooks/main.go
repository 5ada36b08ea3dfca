// Command hfhooks receives, sends and manages Hugging Face Hub webhooks.
//
// Run "hfhooks help" for the list of commands; docs/cli is the reference,
// generated from the commands.
package main

//go:generate go test -run ^TestCLIReference$ -update .

import (
	"context"
	"os"
)

func main() {
	os.Exit(execute(context.Background(), os.Args[1:], &ioStreams{In: os.Stdin, Out: os.Stdout, ErrOut: os.Stderr}))
}
