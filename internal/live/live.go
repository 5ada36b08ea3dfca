// Package live is the one script of the web pages (the receiver's landing
// page and the Hub emulator's page): it refreshes the parts of a page marked
// data-live from the server, so that a delivery's state changes on screen
// without a reload. The page stays server-rendered: the script fetches the
// page again and swaps in the marked elements that changed.
//
// A page embeds [Script] in a <script> element, exactly as is, and allows it
// with [CSPSource] in its Content-Security-Policy, so that no other inline
// script can run.
package live

import (
	"crypto/sha256"
	_ "embed"
	"encoding/base64"
	"html/template"
)

//go:embed live.js
var script string

// Script is the script, to put as the only content of a <script> element.
var Script = template.JS(script)

// CSPSource is the Content-Security-Policy source expression that allows
// Script and nothing else: its SHA-256 hash, for script-src.
var CSPSource = func() string {
	sum := sha256.Sum256([]byte(script))
	return "'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'"
}()
