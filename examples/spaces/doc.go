// Package spaces holds no code. Its folders are Docker Space templates, each
// pushed to a Space as it is: receiver (a Go program), hooks (hfhooks serve
// with a hooks.yaml running Python) and relay (hfhooks relay). Its test
// checks them without Docker.
package spaces
