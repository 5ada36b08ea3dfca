package web

import (
	"html/template"
	"net"
	"strings"
	"testing"
	"time"
)

func TestListenURL(t *testing.T) {
	tests := []struct {
		addr net.Addr
		want string
	}{
		{&net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 7860}, "http://127.0.0.1:7860"},
		{&net.TCPAddr{IP: net.IPv4zero, Port: 7860}, "http://127.0.0.1:7860"},
		{&net.TCPAddr{IP: net.IPv6unspecified, Port: 9000}, "http://127.0.0.1:9000"},
		{&net.TCPAddr{IP: net.IPv6loopback, Port: 9000}, "http://[::1]:9000"},
		{&net.UnixAddr{Name: "/tmp/sock", Net: "unix"}, "http:///tmp/sock"},
	}
	for _, tt := range tests {
		if got := ListenURL(tt.addr); got != tt.want {
			t.Errorf("ListenURL(%v) = %q, want %q", tt.addr, got, tt.want)
		}
	}
}

func TestFuncs(t *testing.T) {
	f := Funcs()
	if got := f["ms"].(func(time.Duration) string)(1500 * time.Microsecond); got != "1.5 ms" {
		t.Errorf("ms = %q", got)
	}
	if css := string(f["css"].(func() template.CSS)()); !strings.Contains(css, ":focus-visible") {
		t.Error("base style sheet lacks the focus style")
	}
}
