package sample

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
)

// Set overrides the field at a dotted path ("repo.private",
// "updatedRefs.0.ref", "event.scope"), creating objects as needed. A segment
// that goes through an array is an index into it, which must exist.
//
// value is parsed as JSON when it is valid JSON (true, 12, null, {"a":1},
// "quoted") and taken as a string otherwise. Numbers keep their digits.
func Set(tree map[string]any, path, value string) error {
	keys := strings.Split(path, ".")
	for _, k := range keys {
		if k == "" {
			return fmt.Errorf("set %q: empty path segment", path)
		}
	}
	v := parseValue(value)

	var node any = tree
	for i, k := range keys {
		last := i == len(keys)-1
		at := strings.Join(keys[:i], ".") // the path of node, for errors
		switch n := node.(type) {
		case map[string]any:
			if last {
				n[k] = v
				break
			}
			if _, ok := n[k]; !ok {
				n[k] = map[string]any{}
			}
			node = n[k]
		case []any:
			idx, err := strconv.Atoi(k)
			if err != nil || idx < 0 || idx >= len(n) {
				return fmt.Errorf("set %q: %s has %d element(s), %q is not an index in it", path, at, len(n), k)
			}
			if last {
				n[idx] = v
				break
			}
			node = n[idx]
		default:
			return fmt.Errorf("set %q: %s is %s, not an object or array", path, at, jsonType(n))
		}
	}
	return nil
}

// parseValue returns value decoded as JSON when it is valid JSON, and value
// itself otherwise.
func parseValue(value string) any {
	if !json.Valid([]byte(value)) {
		return value
	}
	dec := json.NewDecoder(strings.NewReader(value))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return value
	}
	return v
}

// jsonType names the JSON type of a value of an object tree.
func jsonType(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case bool:
		return "a boolean"
	case string:
		return "a string"
	case map[string]any:
		return "an object"
	case []any:
		return "an array"
	}
	return "a number"
}

// JSON builds kind, applies the overrides ("path=value" strings, see Set) in
// order and encodes the payload as indented JSON ending in a newline.
func JSON(kind string, o Options, overrides ...string) ([]byte, error) {
	tree, err := Build(kind, o)
	if err != nil {
		return nil, err
	}
	for _, ov := range overrides {
		path, value, ok := strings.Cut(ov, "=")
		if !ok {
			return nil, fmt.Errorf("override %q: want path=value", ov)
		}
		if err := Set(tree, path, value); err != nil {
			return nil, err
		}
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(tree); err != nil {
		return nil, fmt.Errorf("encoding %s payload: %w", kind, err)
	}
	return buf.Bytes(), nil
}
