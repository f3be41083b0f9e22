package config

import (
	"bytes"
	"flag"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"maps"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/grantd/grantd/internal/provider"
)

var update = flag.Bool("update", false, "rewrite docs/configuration.md from the config types")

const referencePath = "../../docs/configuration.md"

// TestConfigurationReference keeps docs/configuration.md equal to what
// the config types say: every YAML field, its default and its environment
// variable, described by the field's doc comment. Run
// `go test ./internal/config -run TestConfigurationReference -update`
// after changing a config type.
func TestConfigurationReference(t *testing.T) {
	got := reference(t)
	if *update {
		if err := os.WriteFile(referencePath, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(referencePath)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if diff := cmp.Diff(string(want), string(got)); diff != "" {
		t.Errorf("docs/configuration.md is stale; run go test ./internal/config -run TestConfigurationReference -update (-file +types):\n%s", diff)
	}
}

// fieldDocs returns the doc comment of every struct field in the Go files
// of dir, keyed "Type.Field".
func fieldDocs(t *testing.T, dir string) map[string]string {
	t.Helper()
	fset := token.NewFileSet()
	docs := map[string]string{}
	files, err := filepath.Glob(filepath.Join(dir, "*.go"))
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, parser.ParseComments)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(f, func(n ast.Node) bool {
			ts, ok := n.(*ast.TypeSpec)
			if !ok {
				return true
			}
			st, ok := ts.Type.(*ast.StructType)
			if !ok {
				return true
			}
			for _, fld := range st.Fields.List {
				for _, id := range fld.Names {
					docs[ts.Name.Name+"."+id.Name] = strings.Join(strings.Fields(fld.Doc.Text()), " ")
				}
			}
			return true
		})
	}
	return docs
}

func reference(t *testing.T) []byte {
	docs := fieldDocs(t, ".")
	maps.Copy(docs, fieldDocs(t, "../provider"))
	env := map[string]string{}
	for _, o := range envOverrides {
		env[o.path] = o.name
	}
	env["connect.result_secret_env"] = DefaultResultSecretEnv + " (the secret itself, when no variable or file is named)"
	var b bytes.Buffer
	b.WriteString(`# Configuration reference

<!-- Generated from internal/config's types by
     go test ./internal/config -run TestConfigurationReference -update
     Do not edit by hand: the test fails when this file and the types differ. -->

grantd reads one YAML file (` + "`grantd serve -config grantd.yaml`" + `), decoded strictly: an
unknown field is an error that names its line, its YAML path and the nearest known field.
Environment variables override the file (flags > environment > file > defaults). Secrets are
never written in the file: each is named by a ` + "`*_env`" + ` field (an environment variable) or a
` + "`*_file`" + ` field (a file), and every problem is reported at once.

A ` + "`[]`" + ` in a path is a list element; ` + "`providers[]`" + ` fields are those of a provider
(see [providers.md](providers.md)), where a custom provider may set any of them.

| Field | Type | Default | Environment | Description |
| --- | --- | --- | --- | --- |
`)
	walk(&b, reflect.ValueOf(*Default()), "", docs, env)
	return b.Bytes()
}

var (
	durationType = reflect.TypeFor[Duration]()
	customType   = reflect.TypeFor[provider.Custom]()
)

func walk(b *bytes.Buffer, v reflect.Value, prefix string, docs, env map[string]string) {
	t := v.Type()
	for i := range t.NumField() {
		f := t.Field(i)
		name, opts, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if name == "-" || !f.IsExported() {
			continue
		}
		fv := v.Field(i)
		if opts == "inline" {
			walk(b, fv, prefix, docs, env)
			continue
		}
		path := prefix + name
		doc := docs[t.Name()+"."+f.Name]
		ft := f.Type
		switch {
		case ft == customType:
			row(b, path+"[]", "provider", "", doc, env)
		case ft.Kind() == reflect.Slice && ft.Elem() == customType:
			row(b, path, "list", "", doc, env)
			row(b, path+"[].extends", "string", "", "The provider this one starts from (a built-in or one declared before); its fields are inherited and those written here replace them.", env)
			walk(b, reflect.New(reflect.TypeFor[provider.Provider]()).Elem(), path+"[].", docs, env)
		case ft.Kind() == reflect.Struct && ft != durationType:
			row(b, path, "section", "", doc, env)
			walk(b, fv, path+".", docs, env)
		case ft.Kind() == reflect.Slice && ft.Elem().Kind() == reflect.Struct:
			row(b, path, "list", "", doc, env)
			walk(b, reflect.New(ft.Elem()).Elem(), path+"[].", docs, env)
		default:
			row(b, path, typeName(ft), defaultOf(fv), doc, env)
		}
	}
}

func row(b *bytes.Buffer, path, typ, def, doc string, env map[string]string) {
	cell := func(s string) string {
		if s == "" {
			return ""
		}
		return strings.ReplaceAll(s, "|", `\|`)
	}
	e := env[path]
	if e != "" && !strings.Contains(e, " ") {
		e = "`" + e + "`"
	}
	fmt.Fprintf(b, "| `%s` | %s | %s | %s | %s |\n", path, typ, cell(def), cell(e), cell(doc))
}

func typeName(t reflect.Type) string {
	switch {
	case t == durationType:
		return "duration"
	case t.Kind() == reflect.Slice && t.Elem() == durationType:
		return "list of durations"
	case t.Kind() == reflect.Slice:
		return "list of " + typeName(t.Elem()) + "s"
	case t.Kind() == reflect.Map:
		return "map of " + typeName(t.Elem()) + "s"
	case t.Kind() == reflect.Bool:
		return "boolean"
	case t.Kind() >= reflect.Int && t.Kind() <= reflect.Uint64:
		return "integer"
	case t.Kind() == reflect.Float64:
		return "number"
	}
	return "string"
}

// defaultOf formats a default value, or "" for the zero value.
func defaultOf(v reflect.Value) string {
	if v.IsZero() {
		return ""
	}
	switch {
	case v.Type() == durationType:
		return "`" + time.Duration(v.Int()).String() + "`"
	case v.Kind() == reflect.Slice:
		var parts []string
		for i := range v.Len() {
			parts = append(parts, strings.Trim(defaultOf(v.Index(i)), "`"))
		}
		return "`[" + strings.Join(parts, ", ") + "]`"
	}
	return fmt.Sprintf("`%v`", v.Interface())
}
