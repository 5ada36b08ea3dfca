package main

import "net/url"

// checkURLFlag returns a usage error unless value, given to flag, is an
// absolute http:// or https:// URL; the message shows the form wanted with
// example, such as https://you-relay.hf.space. The flags that take a URL
// check it with this before anything is sent, except deliveries' --server,
// which also refuses a query and says so in its own message.
func checkURLFlag(flag, value, example string) error {
	u, err := url.Parse(value)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return usageErrorf("%s %q: want an http:// or https:// URL, such as %s", flag, value, example)
	}
	return nil
}
