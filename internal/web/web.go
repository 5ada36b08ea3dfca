// Package web holds what the receiver's landing page and the Hub
// emulator's page share: the base style sheet, the one script, template
// functions, and the URL a listener is reached at.
//
// The script refreshes the parts of a page marked data-live from the server,
// so that a delivery's state changes on screen without a reload. The page
// stays server-rendered: the script fetches the page again and swaps in the
// marked elements that changed. A page embeds it with the "script" template
// function, as the only content of a <script> element, and allows it with
// ScriptSource in its Content-Security-Policy, so that no other inline script
// can run.
package web

import (
	"crypto/sha256"
	_ "embed"
	"encoding/base64"
	"html/template"
	"net"
	"strconv"
	"time"
)

var (
	//go:embed base.css
	baseCSS string
	//go:embed live.js
	liveJS string
)

// ScriptSource is the Content-Security-Policy source expression that allows
// the pages' script and nothing else: its SHA-256 hash, for script-src.
var ScriptSource = func() string {
	sum := sha256.Sum256([]byte(liveJS))
	return "'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'"
}()

// Funcs are the template functions both pages use: "css" is the base style
// sheet, to embed in a <style> element before the page's own rules; "script"
// is the script; "ms" prints a duration in milliseconds.
func Funcs() template.FuncMap {
	return template.FuncMap{
		"css":    func() template.CSS { return template.CSS(baseCSS) },
		"script": func() template.JS { return template.JS(liveJS) },
		"ms": func(d time.Duration) string {
			return strconv.FormatFloat(float64(d)/float64(time.Millisecond), 'f', 1, 64) + " ms"
		},
	}
}

// ListenURL is the URL of a listener, with a wildcard host (0.0.0.0, ::)
// replaced by one a browser or a client on the same machine can reach.
func ListenURL(a net.Addr) string {
	host, port, err := net.SplitHostPort(a.String())
	if err != nil {
		return "http://" + a.String()
	}
	if ip := net.ParseIP(host); ip == nil || ip.IsUnspecified() {
		host = "127.0.0.1"
	}
	return "http://" + net.JoinHostPort(host, port)
}
