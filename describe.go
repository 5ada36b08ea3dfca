package hfhooks

import (
	"strings"
)

// What the landing page's table of endpoints says of each: the deliveries
// it acts on and what it does.

// EndpointDescription says what the endpoint does, in a few words, for the
// landing page's table of endpoints: "run: ./retrain.sh", "forward:
// https://ci.example.com/hook". hfhooks serve describes each hook of a
// hooks.yaml this way. The page shows it as given: leave secrets out.
func EndpointDescription(text string) EndpointOption {
	return func(e *endpoint) { e.description = text }
}

// summary says which deliveries f selects, for the landing page: "every
// delivery" for a nil or empty filter, else each field that is set, as
// "scopes: repo; repos: acme/*".
func (f *Filter) summary() string {
	if f == nil {
		return "every delivery"
	}
	var parts []string
	add := func(name string, values []string) {
		if len(values) > 0 {
			parts = append(parts, name+": "+strings.Join(values, ", "))
		}
	}
	add("scopes", f.Scopes)
	add("actions", stringsOf(f.Actions))
	add("repoTypes", stringsOf(f.RepoTypes))
	add("repos", f.Repos)
	add("refs", f.Refs)
	if f.Kind != KindAny {
		add("kind", []string{string(f.Kind)})
	}
	if len(parts) == 0 {
		return "every delivery"
	}
	return strings.Join(parts, "; ")
}

// stringsOf converts a list of string-typed values.
func stringsOf[T ~string](values []T) []string {
	out := make([]string, len(values))
	for i, v := range values {
		out[i] = string(v)
	}
	return out
}
