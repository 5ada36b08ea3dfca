package docs

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/hfhooks/hfhooks/internal/config"
)

// schemaPath is the JSON Schema of hooks.yaml, from the root.
const schemaPath = "schema/hooks.schema.json"

// schemaURL is where editors find the schema: the yaml-language-server
// line of a sample names it.
const schemaURL = "https://raw.githubusercontent.com/hfhooks/hfhooks/main/" + schemaPath

// schemaLine is the first line of a hooks.yaml that names its schema.
var schemaLine = regexp.MustCompile(`^# yaml-language-server: \$schema=(\S+)$`)

// A schema is a JSON Schema, as decoded from JSON.
type schema = map[string]any

// loadSchema reads the schema of hooks.yaml.
func loadSchema(t *testing.T) schema {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(root, schemaPath))
	if err != nil {
		t.Fatal(err)
	}
	var s schema
	if err := json.Unmarshal(data, &s); err != nil {
		t.Fatalf("%s: %v", schemaPath, err)
	}
	return s
}

// validator checks values against a schema, with the keywords the schema
// of hooks.yaml uses; any other keyword is an error, so that no part of the
// schema goes unchecked.
type validator struct {
	root schema
}

// keywords are the keywords validate knows; annotations have no effect.
var keywords = map[string]bool{
	"$schema": true, "$id": true, "$defs": true, "title": true, "description": true, // annotations
	"$ref": true, "type": true, "properties": true, "additionalProperties": true, "required": true,
	"items": true, "minItems": true, "minimum": true, "enum": true, "pattern": true, "anyOf": true, "oneOf": true,
}

// validate returns the problems of v against s, each with the path of the
// value it is about.
func (vd *validator) validate(s schema, v any, path string) []error {
	var errs []error
	fail := func(format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s: %s", cmpPath(path), fmt.Sprintf(format, args...)))
	}
	for k := range s {
		if !keywords[k] {
			fail("schema keyword %q is not one the test knows", k)
		}
	}
	if ref, ok := s["$ref"].(string); ok {
		name, found := strings.CutPrefix(ref, "#/$defs/")
		def, _ := vd.root["$defs"].(map[string]any)[name].(map[string]any)
		if !found || def == nil {
			fail("unresolved $ref %q", ref)
		} else {
			errs = append(errs, vd.validate(def, v, path)...)
		}
	}
	if t, ok := s["type"]; ok && !hasType(t, v) {
		fail("%v is a %s, want %v", v, typeOf(v), t)
		return errs
	}
	if enum, ok := s["enum"].([]any); ok && !slices.ContainsFunc(enum, func(e any) bool { return equal(e, v) }) {
		fail("%v is not one of %v", v, enum)
	}
	if p, ok := s["pattern"].(string); ok {
		if str, isString := v.(string); isString && !regexp.MustCompile(p).MatchString(str) {
			fail("%q does not match %s", str, p)
		}
	}
	if min, ok := s["minimum"].(float64); ok {
		if n, isNumber := number(v); isNumber && n < min {
			fail("%v is less than %v", v, min)
		}
	}
	if obj, isObject := v.(map[string]any); isObject {
		props, _ := s["properties"].(map[string]any)
		for _, k := range slices.Sorted(maps.Keys(obj)) {
			switch p, known := props[k].(map[string]any); {
			case known:
				errs = append(errs, vd.validate(p, obj[k], path+"."+k)...)
			case s["additionalProperties"] == false:
				fail("unknown key %q", k)
			default:
				if ap, ok := s["additionalProperties"].(map[string]any); ok {
					errs = append(errs, vd.validate(ap, obj[k], path+"."+k)...)
				}
			}
		}
		required, _ := s["required"].([]any)
		for _, r := range required {
			if _, ok := obj[r.(string)]; !ok {
				fail("missing %q", r)
			}
		}
	}
	if list, isList := v.([]any); isList {
		if n, ok := s["minItems"].(float64); ok && float64(len(list)) < n {
			fail("%d items, want at least %v", len(list), n)
		}
		if items, ok := s["items"].(map[string]any); ok {
			for i, item := range list {
				errs = append(errs, vd.validate(items, item, fmt.Sprintf("%s[%d]", path, i))...)
			}
		}
	}
	if anyOf, ok := s["anyOf"].([]any); ok && !slices.ContainsFunc(anyOf, func(sub any) bool {
		return len(vd.validate(sub.(map[string]any), v, path)) == 0
	}) {
		fail("%v matches none of anyOf", v)
	}
	if one, ok := s["oneOf"].([]any); ok {
		n := 0
		for _, sub := range one {
			if len(vd.validate(sub.(map[string]any), v, path)) == 0 {
				n++
			}
		}
		if n != 1 {
			fail("matches %d of oneOf, want exactly 1", n)
		}
	}
	return errs
}

func cmpPath(p string) string {
	if p == "" {
		return "(the file)"
	}
	return strings.TrimPrefix(p, ".")
}

// hasType reports whether v has one of the JSON types t names.
func hasType(t, v any) bool {
	names, ok := t.([]any)
	if !ok {
		names = []any{t}
	}
	for _, name := range names {
		switch got := typeOf(v); {
		case name == got, name == "number" && got == "integer":
			return true
		}
	}
	return false
}

// typeOf returns the JSON type of a value decoded from YAML or JSON.
func typeOf(v any) string {
	switch v := v.(type) {
	case nil:
		return "null"
	case bool:
		return "boolean"
	case string:
		return "string"
	case int, int64, uint64:
		return "integer"
	case float64:
		if v == float64(int64(v)) {
			return "integer"
		}
		return "number"
	case []any:
		return "array"
	case map[string]any:
		return "object"
	}
	return fmt.Sprintf("%T", v)
}

func number(v any) (float64, bool) {
	switch v := v.(type) {
	case int:
		return float64(v), true
	case int64:
		return float64(v), true
	case uint64:
		return float64(v), true
	case float64:
		return v, true
	}
	return 0, false
}

// equal compares values decoded from YAML and JSON, whose numbers differ in
// type.
func equal(a, b any) bool {
	x, aNumber := number(a)
	y, bNumber := number(b)
	if aNumber || bNumber {
		return aNumber && bNumber && x == y
	}
	return a == b
}

// decodeYAML decodes a hooks.yaml into the values a JSON Schema describes.
func decodeYAML(data []byte) (any, error) {
	var v any
	if err := yaml.Unmarshal(data, &v); err != nil {
		return nil, err
	}
	return v, nil
}

// hooksFiles are the hooks.yaml files of the repository: every .yaml file
// that names the schema on its first line.
func hooksFiles(t *testing.T) []string {
	t.Helper()
	var files []string
	for _, file := range repoFiles(t, ".yaml", ".yml") {
		data, err := os.ReadFile(filepath.Join(root, file))
		if err != nil {
			t.Fatal(err)
		}
		if first, _, _ := strings.Cut(string(data), "\n"); schemaLine.MatchString(first) {
			files = append(files, file)
		}
	}
	return files
}

// TestExamplesMatchSchema checks that every hooks.yaml of the repository
// and of the docs validates against the schema and names it on its first
// line: a doc by its URL, a file by its path or, when it is made to be
// copied elsewhere (a Space template), by its URL.
func TestExamplesMatchSchema(t *testing.T) {
	t.Parallel()
	vd := &validator{root: loadSchema(t)}
	files := hooksFiles(t)
	for _, want := range []string{"examples/hooks.yaml", "examples/spaces/hooks/hooks.yaml"} {
		if !slices.Contains(files, filepath.FromSlash(want)) {
			t.Errorf("%s does not start with the yaml-language-server line of the schema (found %v)", want, files)
		}
	}
	for _, file := range files {
		data, err := os.ReadFile(filepath.Join(root, file))
		if err != nil {
			t.Fatal(err)
		}
		first, _, _ := strings.Cut(string(data), "\n")
		ref := schemaLine.FindStringSubmatch(first)[1]
		if want, _ := filepath.Rel(filepath.Dir(file), schemaPath); ref != want && ref != schemaURL {
			t.Errorf("%s names the schema %s, want %s (its path from the file) or %s", file, ref, want, schemaURL)
		}
		v, err := decodeYAML(data)
		if err != nil {
			t.Errorf("%s: %v", file, err)
			continue
		}
		for _, err := range vd.validate(vd.root, v, "") {
			t.Errorf("%s: %v", file, err)
		}
	}
	n := 0
	for _, b := range blocks(t) {
		first, _, _ := strings.Cut(b.text, "\n")
		m := schemaLine.FindStringSubmatch(first)
		if b.lang != "yaml" || m == nil {
			continue
		}
		n++
		if m[1] != schemaURL {
			t.Errorf("%s names the schema %s, want %s", b, m[1], schemaURL)
		}
		v, err := decodeYAML([]byte(b.text))
		if err != nil {
			t.Errorf("%s: %v", b, err)
			continue
		}
		for _, err := range vd.validate(vd.root, v, "") {
			t.Errorf("%s: %v", b, err)
		}
	}
	if n == 0 {
		t.Error("no hooks.yaml in the docs names the schema")
	}
}

// A probe is a hooks.yaml with an unknown key, "zzz", in one mapping.
type probe struct {
	where string // the mapping's path in the schema's terms: "", "hooks[]", "hooks[].run"...
	yaml  string
}

// probes put an unknown key in every mapping of a hooks.yaml.
var probes = []probe{
	{"", "zzz: 1\nhooks: [{name: a, run: {command: [sh]}}]"},
	{"hooks[]", "hooks: [{name: a, run: {command: [sh]}, zzz: 1}]"},
	{"hooks[].filter", "hooks: [{name: a, run: {command: [sh]}, filter: {zzz: 1}}]"},
	{"hooks[].run", "hooks: [{name: a, run: {command: [sh], zzz: 1}}]"},
	{"hooks[].forward", "hooks: [{name: a, forward: {url: 'http://127.0.0.1/x', zzz: 1}}]"},
	{"hooks[].comment", "hooks: [{name: a, filter: {scopes: [discussion]}, comment: {text: hi, token: hf_x, zzz: 1}}]"},
	{"hooks[].notify", "hooks: [{name: a, notify: {slack: 'https://hooks.slack.com/x', text: hi, zzz: 1}}]"},
	{"onGiveUp", "onGiveUp: {run: {command: [sh]}, zzz: 1}\nhooks: [{name: a, run: {command: [sh]}}]"},
	{"onGiveUp.run", "onGiveUp: {run: {command: [sh], zzz: 1}}\nhooks: [{name: a, run: {command: [sh]}}]"},
	{"onGiveUp.forward", "onGiveUp: {forward: {url: 'http://127.0.0.1/x', zzz: 1}}\nhooks: [{name: a, run: {command: [sh]}}]"},
	{"onGiveUp.notify", "onGiveUp: {notify: {slack: 'https://hooks.slack.com/x', text: hi, zzz: 1}}\nhooks: [{name: a, run: {command: [sh]}}]"},
	{"hooks[].onGiveUp", "hooks: [{name: a, run: {command: [sh]}, onGiveUp: {run: {command: [sh]}, zzz: 1}}]"},
	{"hooks[].onGiveUp.run", "hooks: [{name: a, run: {command: [sh]}, onGiveUp: {run: {command: [sh], zzz: 1}}}]"},
	{"hooks[].onGiveUp.forward", "hooks: [{name: a, run: {command: [sh]}, onGiveUp: {forward: {url: 'http://127.0.0.1/x', zzz: 1}}}]"},
	{"hooks[].onGiveUp.notify", "hooks: [{name: a, run: {command: [sh]}, onGiveUp: {notify: {slack: 'https://hooks.slack.com/x', text: hi, zzz: 1}}}]"},
}

// knownKeys matches internal/config's message for an unknown key.
var knownKeys = regexp.MustCompile(`zzz: unknown key \(known keys: ([^)]*)\)`)

// TestSchemaHasEveryKey checks the schema against internal/config, key by
// key: in every mapping of a hooks.yaml, the keys the schema describes are
// the keys internal/config knows (which an unknown key's message lists),
// both refuse an unknown key, and every mapping the schema describes is
// probed.
func TestSchemaHasEveryKey(t *testing.T) {
	t.Parallel()
	vd := &validator{root: loadSchema(t)}
	probed := map[string]bool{}
	for _, p := range probes {
		probed[p.where] = true
		s, err := vd.at(p.where)
		if err != nil {
			t.Errorf("%s: %v", p.where, err)
			continue
		}
		props, _ := s["properties"].(map[string]any)
		want := slices.Sorted(maps.Keys(props))

		_, err = config.Parse("hooks.yaml", []byte(p.yaml))
		m := knownKeys.FindStringSubmatch(fmt.Sprint(err))
		if m == nil {
			t.Errorf("%s: internal/config did not refuse the unknown key: %v", p.where, err)
			continue
		}
		if got := strings.Split(m[1], ", "); !slices.Equal(got, want) {
			t.Errorf("%s: internal/config knows the keys %v, the schema %v", p.where, got, want)
		}
		v, err := decodeYAML([]byte(p.yaml))
		if err != nil {
			t.Fatal(err)
		}
		if errs := vd.validate(vd.root, v, ""); !slices.ContainsFunc(errs, func(err error) bool {
			return strings.Contains(err.Error(), `unknown key "zzz"`)
		}) {
			t.Errorf("%s: the schema accepts an unknown key (%v)", p.where, errors.Join(errs...))
		}
	}
	// Every mapping of the schema with keys of its own is probed.
	var walk func(where string, s schema)
	walk = func(where string, s schema) {
		s = vd.resolve(s)
		if props, ok := s["properties"].(map[string]any); ok {
			if !probed[where] {
				t.Errorf("%s: a mapping of the schema that no probe checks: add one", where)
			}
			for k, p := range props {
				walk(strings.TrimPrefix(where+"."+k, "."), p.(map[string]any))
			}
		}
		if items, ok := s["items"].(map[string]any); ok {
			walk(where+"[]", items)
		}
	}
	walk("", vd.root)
}

// resolve follows a $ref of s.
func (vd *validator) resolve(s schema) schema {
	for {
		ref, ok := s["$ref"].(string)
		if !ok {
			return s
		}
		s, _ = vd.root["$defs"].(map[string]any)[strings.TrimPrefix(ref, "#/$defs/")].(map[string]any)
	}
}

// at returns the schema of the mapping at where.
func (vd *validator) at(where string) (schema, error) {
	s := vd.root
	if where == "" {
		return s, nil
	}
	for part := range strings.SplitSeq(where, ".") {
		name, list := strings.CutSuffix(part, "[]")
		p, ok := vd.resolve(s)["properties"].(map[string]any)[name].(map[string]any)
		if !ok {
			return nil, fmt.Errorf("the schema has no key %s", name)
		}
		s = vd.resolve(p)
		if list {
			if s, ok = s["items"].(map[string]any); !ok {
				return nil, fmt.Errorf("%s is not a list in the schema", name)
			}
			s = vd.resolve(s)
		}
	}
	return s, nil
}
