package config

import (
	"bytes"
	"encoding/json"
	"flag"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"reflect"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite docs/strata.schema.json from the Go types")

const schemaPath = "../../docs/strata.schema.json"

// enums are the values of keys that take one of a list; pattern the
// strings a Duration and a Size are.
var enums = map[string][]string{
	"Source.type":          {SourcePostgres, SourceMySQL, SourceSQLite, SourcePath, SourceCommand, SourceStdin},
	"Channel.type":         {ChannelWebhook, ChannelSlack, ChannelDiscord, ChannelSMTP, ChannelHealthchecks},
	"Channel.min_severity": {SeverityInfo, SeverityWarning, SeverityCritical},
	"SMTP.tls":             {"starttls", "tls", "none"},
	"HTTPHook.method":      {"GET", "POST", "PUT", "PATCH", "HEAD"},
	"Channel.events":       Events,
}

const durationPattern = `^(0|([0-9]+[dw])*([0-9.]+(ns|us|µs|ms|s|m|h))*)$`

// TestSchema keeps docs/strata.schema.json, the JSON Schema editors use,
// the schema of the Go types: every key, its kind, which keys are
// required, no others allowed, and each key's doc comment from types.go
// as its description. go test ./service/config -run TestSchema -update
// rewrites it.
func TestSchema(t *testing.T) {
	docs := fieldDocs(t, "types.go")
	g := schemaGen{defs: map[string]any{}, docs: docs}
	root := g.object(reflect.TypeOf(Config{}))
	root["$schema"] = "https://json-schema.org/draft/2020-12/schema"
	root["$id"] = "https://strata.invalid/strata.schema.json"
	root["title"] = "strata.yaml"
	root["description"] = "strata's service configuration (strata config validate checks it; see the README, \"Run strata as a service\")."
	root["$defs"] = g.defs
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(root); err != nil {
		t.Fatal(err)
	}
	if *update {
		if err := os.WriteFile(schemaPath, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	have, err := os.ReadFile(schemaPath)
	if err != nil {
		t.Fatalf("%v (go test ./service/config -run TestSchema -update writes it)", err)
	}
	if !bytes.Equal(have, buf.Bytes()) {
		t.Fatalf("%s is not the schema of the Go types in types.go: run go test ./service/config -run TestSchema -update", schemaPath)
	}
	// Every key of the types is in the schema, and the schema has no
	// other: walk both.
	var parsed map[string]any
	if err := json.Unmarshal(have, &parsed); err != nil {
		t.Fatal(err)
	}
	checkKeys(t, parsed, parsed, reflect.TypeOf(Config{}), "")
}

func checkKeys(t *testing.T, root, s map[string]any, typ reflect.Type, path string) {
	for typ.Kind() == reflect.Pointer {
		typ = typ.Elem()
	}
	if all, ok := s["allOf"].([]any); ok {
		s = all[0].(map[string]any)
	}
	if ref, ok := s["$ref"].(string); ok {
		s = root["$defs"].(map[string]any)[strings.TrimPrefix(ref, "#/$defs/")].(map[string]any)
	}
	switch {
	case typ == reflect.TypeOf(Duration(0)) || typ == reflect.TypeOf(Size(0)):
	case typ.Kind() == reflect.Struct:
		props, _ := s["properties"].(map[string]any)
		fields := yamlFields(typ)
		for k := range props {
			if _, ok := fields[k]; !ok {
				t.Errorf("schema key %s%s is not in the Go type %s", path, k, typ.Name())
			}
		}
		for k, f := range fields {
			sub, ok := props[k].(map[string]any)
			if !ok {
				t.Errorf("Go key %s%s is not in the schema", path, k)
				continue
			}
			checkKeys(t, root, sub, f.Type, path+k+".")
		}
	case typ.Kind() == reflect.Slice:
		checkKeys(t, root, s["items"].(map[string]any), typ.Elem(), path)
	case typ.Kind() == reflect.Map:
		checkKeys(t, root, s["additionalProperties"].(map[string]any), typ.Elem(), path)
	}
}

type schemaGen struct {
	defs map[string]any
	docs map[string]string // "Type.Field" -> doc comment
}

func (g *schemaGen) schema(t reflect.Type) map[string]any {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t {
	case reflect.TypeOf(Duration(0)):
		return map[string]any{"type": "string", "pattern": durationPattern, "examples": []string{"90s", "36h", "2d"}}
	case reflect.TypeOf(Size(0)):
		return map[string]any{"type": []string{"integer", "string"}, "pattern": `^[0-9.]+ *([KMGTP]i?B?|B)?$`, "minimum": 0, "examples": []string{"500GiB", "2TB"}}
	}
	switch t.Kind() {
	case reflect.String:
		return map[string]any{"type": "string"}
	case reflect.Int, reflect.Int64:
		return map[string]any{"type": "integer"}
	case reflect.Bool:
		return map[string]any{"type": "boolean"}
	case reflect.Slice:
		return map[string]any{"type": "array", "items": g.schema(t.Elem())}
	case reflect.Map:
		return map[string]any{"type": "object", "additionalProperties": g.schema(t.Elem())}
	case reflect.Struct:
		if _, ok := g.defs[t.Name()]; !ok {
			g.defs[t.Name()] = nil // recursion guard
			g.defs[t.Name()] = g.object(t)
		}
		return map[string]any{"$ref": "#/$defs/" + t.Name()}
	}
	panic("no schema for " + t.String())
}

func (g *schemaGen) object(t reflect.Type) map[string]any {
	props := map[string]any{}
	var required []string
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		key := YAMLKey(f)
		if key == "" {
			continue
		}
		s := g.schema(f.Type)
		if d := g.docs[t.Name()+"."+f.Name]; d != "" {
			if _, isRef := s["$ref"]; isRef {
				s = map[string]any{"allOf": []any{s}, "description": d}
			} else {
				s["description"] = d
			}
		}
		if e, ok := enums[t.Name()+"."+key]; ok {
			if items, isArray := s["items"].(map[string]any); isArray {
				items["enum"] = e
			} else {
				s["enum"] = e
			}
		}
		if t.Name() == "Config" && key == "version" {
			s["const"] = Version
		}
		props[key] = s
		if !strings.Contains(f.Tag.Get("yaml"), "omitempty") {
			required = append(required, key)
		}
	}
	o := map[string]any{"type": "object", "properties": props, "additionalProperties": false}
	if d := g.docs[t.Name()]; d != "" {
		o["description"] = d
	}
	if required != nil {
		o["required"] = required
	}
	return o
}

// fieldDocs reads the doc comments of the structs and fields in file.
func fieldDocs(t *testing.T, file string) map[string]string {
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, file, nil, parser.ParseComments)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	clean := func(s string) string { return strings.Join(strings.Fields(s), " ") }
	for _, decl := range f.Decls {
		gd, ok := decl.(*ast.GenDecl)
		if !ok {
			continue
		}
		for _, spec := range gd.Specs {
			ts, ok := spec.(*ast.TypeSpec)
			if !ok {
				continue
			}
			st, ok := ts.Type.(*ast.StructType)
			if !ok {
				continue
			}
			out[ts.Name.Name] = clean(gd.Doc.Text())
			for _, fld := range st.Fields.List {
				doc := fld.Doc.Text()
				if doc == "" {
					doc = fld.Comment.Text()
				}
				for _, n := range fld.Names {
					out[ts.Name.Name+"."+n.Name] = clean(doc)
				}
			}
		}
	}
	return out
}
