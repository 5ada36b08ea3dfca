// Package docs holds the tests that keep the repository's documentation
// true: README.md and docs/*.md quote compiled Go code, their offline shell
// samples run, their relative links lead somewhere, and
// schema/hooks.schema.json describes the hooks.yaml that internal/config
// accepts. It has no API.
//
// A Markdown file marks its samples with an HTML comment on the line
// before the fence:
//
//	<!-- code: PATH REGION -->  the Go block is the region of the file PATH
//	                            between "// docs:begin REGION" and
//	                            "// docs:end", without their indentation
//	<!-- offline -->            the sh block runs without a network
//
// Every ```go block needs a code line. A ```yaml block that starts with the
// yaml-language-server line of the schema is a whole hooks.yaml, and must
// validate against the schema, as must every .yaml file of the repository
// that starts with that line. The schema is checked against internal/config
// key by key, with a validator of the subset of JSON Schema it uses (any
// other keyword fails the test).
package docs
