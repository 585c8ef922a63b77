package fuzz

import (
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/vektah/gqlparser/v2"
	"github.com/vektah/gqlparser/v2/ast"
)

// loadGraphQL parses the gateway's schema files.
func loadGraphQL(dir string) (*ast.Schema, error) {
	files, err := filepath.Glob(filepath.Join(dir, "*.graphqls"))
	if err != nil || len(files) == 0 {
		return nil, fmt.Errorf("no GraphQL schema files in %s", dir)
	}
	var sources []*ast.Source
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			return nil, err
		}
		sources = append(sources, &ast.Source{Name: filepath.Base(f), Input: string(b)})
	}
	s, err := gqlparser.LoadSchema(sources...)
	if err != nil {
		return nil, fmt.Errorf("parsing the GraphQL schema: %w", err)
	}
	return s, nil
}

// enumVal is an enum value: bare in a GraphQL literal, a string in JSON.
type enumVal string

// rawLit is GraphQL text put into the document as it is.
type rawLit string

// literal renders v as a GraphQL value.
func literal(v any) string {
	switch v := v.(type) {
	case nil:
		return "null"
	case string:
		b, _ := json.Marshal(v)
		return string(b)
	case enumVal:
		return string(v)
	case rawLit:
		return string(v)
	case bool:
		return strconv.FormatBool(v)
	case int64:
		return strconv.FormatInt(v, 10)
	case json.Number:
		return string(v)
	case float64:
		return strconv.FormatFloat(v, 'g', -1, 64)
	case []any:
		parts := make([]string, len(v))
		for i, x := range v {
			parts[i] = literal(x)
		}
		return "[" + strings.Join(parts, ", ") + "]"
	case map[string]any:
		keys := sortedKeys(v)
		parts := make([]string, len(keys))
		for i, k := range keys {
			parts[i] = k + ": " + literal(v[k])
		}
		return "{" + strings.Join(parts, ", ") + "}"
	default:
		return fmt.Sprint(v)
	}
}

// jsonValue turns a generated value into what a variable carries.
func jsonValue(v any) any {
	switch v := v.(type) {
	case enumVal:
		return string(v)
	case rawLit:
		return string(v)
	case []any:
		out := make([]any, len(v))
		for i, x := range v {
			out[i] = jsonValue(x)
		}
		return out
	case map[string]any:
		out := map[string]any{}
		for k, x := range v {
			out[k] = jsonValue(x)
		}
		return out
	default:
		return v
	}
}

// The kinds of damage a GraphQL request can carry.
var gqlMutations = []string{
	"wrong-type", "wrong-type", "null", "missing-arg", "unknown-arg", "huge-string", "nasty-string", "nasty-string",
	"int-overflow", "var-type-mismatch", "var-wrong-json", "undeclared-var", "input-field",
	"unknown-field", "missing-selection", "selection-on-scalar", "deep-syntax", "deep-introspection", "aliases",
	"aliases-cheap", "fragment-cycle", "fragment-spreads", "syntax-error", "multi-op", "wrong-op-name",
	"variables-not-object", "batch", "get", "content-type", "auth", "auth", "directives", "introspection",
	"subscription", "malformed-body", "duplicate-args", "huge-document",
}

// argMutations damage one argument of the field.
var argMutations = map[string]bool{
	"wrong-type": true, "null": true, "missing-arg": true, "huge-string": true, "nasty-string": true,
	"int-overflow": true, "var-type-mismatch": true, "var-wrong-json": true, "undeclared-var": true, "input-field": true,
}

// hasArgs reports whether f has arguments (of an input object type, when
// input says so).
func hasArgs(s *ast.Schema, f *ast.FieldDefinition, input bool) bool {
	for _, a := range f.Arguments {
		if def := s.Types[a.Type.Name()]; !input || (def != nil && def.Kind == ast.InputObject) {
			return true
		}
	}
	return false
}

// doc collects the variables of the operation being built.
type doc struct {
	defs []string
	vars map[string]any
}

func (d *doc) declare(name, typ string, v any) string {
	name = fmt.Sprintf("%s%d", name, len(d.defs))
	d.defs = append(d.defs, "$"+name+": "+typ)
	d.vars[name] = jsonValue(v)
	return name
}

func (d *doc) header() string {
	if len(d.defs) == 0 {
		return ""
	}
	return "(" + strings.Join(d.defs, ", ") + ")"
}

// graphql generates a request to /graphql as identity.
func (g *gen) graphql(s *ast.Schema, identity string) *request {
	opType, root := "query", s.Query
	if s.Mutation != nil && g.chance(0.3) {
		opType, root = "mutation", s.Mutation
	}
	var fields []*ast.FieldDefinition
	for _, f := range root.Fields {
		if !strings.HasPrefix(f.Name, "__") {
			fields = append(fields, f)
		}
	}
	f := fields[g.r.IntN(len(fields))]
	g.route, g.write = f.Name, opType == "mutation"
	rq := newRequest("graphql", identity, "POST", "graphql "+opType+" "+f.Name)
	rq.path = "/graphql"
	rq.header.Set("Content-Type", "application/json")
	mut := ""
	if g.chance(0.7) {
		mut = gqlMutations[g.r.IntN(len(gqlMutations))]
		if argMutations[mut] && !hasArgs(s, f, mut == "input-field") {
			mut = "unknown-arg"
		}
		rq.note("%s", mut)
	}

	d := &doc{vars: map[string]any{}}
	call := g.call(s, f, d, mut, rq)
	body := map[string]any{}
	opName := "Fuzz" + strings.ToUpper(f.Name[:1]) + f.Name[1:]
	query := opType + " " + opName + d.header() + " { " + call + " }"

	switch mut {
	case "deep-syntax":
		n := pick(g, 1000, 5000, 15000)
		query = strings.Repeat("{ a ", n) + strings.Repeat("}", n)
		rq.note("selections nested %d deep", n)
	case "deep-introspection":
		n := pick(g, 10, 50, 300)
		query = "{ __schema { types { fields { type " + strings.Repeat("{ ofType ", n) + "{ name }" + strings.Repeat(" }", n) + " } } } }"
		rq.note("ofType nested %d deep", n)
	case "aliases":
		n := pick(g, 50, 100, 101, 250, 1000)
		parts := make([]string, n)
		for i := range parts {
			parts[i] = fmt.Sprintf("a%d: %s", i, call)
		}
		query = opType + " " + opName + d.header() + " { " + strings.Join(parts, " ") + " }"
		rq.note("the field %d times under aliases", n)
	case "aliases-cheap":
		n := pick(g, 199, 201, 2000)
		parts := make([]string, n)
		for i := range parts {
			parts[i] = fmt.Sprintf("t%d: __typename", i)
		}
		query = "query { " + strings.Join(parts, " ") + " }"
		rq.note("__typename %d times under aliases", n)
	case "fragment-cycle":
		query = "query { ...A } fragment A on Query { categories { id } ...B } fragment B on Query { ...A }"
	case "fragment-spreads":
		n := pick(g, 100, 3000)
		query = "query { " + strings.Repeat("...F ", n) + "} fragment F on Query { categories { id name } }"
		rq.note("%d spreads of one fragment", n)
	case "syntax-error":
		query = pick(g, query[:len(query)/2], query+" }", "query { products( }", `{ product(id: "unterminated) { id } }`,
			"\x00\x01", "}}}{{{", `{ product(id: "\u00") { id } }`, "query", "{}", "{ product(id: 1 2 3) }", "#only a comment")
	case "multi-op":
		query += " query Other { categories { id } }"
	case "wrong-op-name":
		body["operationName"] = pick(g, "Nope", "", strings.Repeat("N", 10000), opName+" ")
	case "variables-not-object":
		body["variables"] = pick[any](g, "a string", []any{1, 2}, json.Number("5"), true)
	case "directives":
		query = strings.Replace(query, call, call+" "+pick(g, `@skip(if: "yes")`, "@include", "@unknown", "@deprecated",
			strings.Repeat("@skip(if: false) ", 500), "@skip(if: $nope)"), 1)
	case "introspection":
		query = pick(g, introspectionQuery, `{ __type(name: "`+strings.Repeat("T", 30000)+`") { name } }`,
			`{ __schema { types { name fields { name args { name type { name kind ofType { name } } } } } } }`)
	case "subscription":
		query = "subscription { products { items { id } } }"
	case "duplicate-args":
		if len(f.Arguments) > 0 {
			a := f.Arguments[0]
			query = strings.Replace(query, a.Name+":", a.Name+": "+literal(g.gqlValue(s, a.Name, a.Type, 0))+", "+a.Name+":", 1)
		}
	case "huge-document":
		pad := pick(g, 30<<10, 70<<10)
		query += "\n#" + strings.Repeat("x", pad)
		rq.note("a %d KiB comment", pad>>10)
	}

	body["query"] = query
	if len(d.vars) > 0 && body["variables"] == nil {
		body["variables"] = d.vars
	}
	if mut == "multi-op" && g.chance(0.5) {
		body["operationName"] = "Other"
	}
	b, _ := json.Marshal(body)
	rq.body = b

	switch mut {
	case "batch":
		rq.body = []byte("[" + string(b) + "," + string(b) + "]")
	case "malformed-body":
		rq.body = []byte(pick(g, string(b[:len(b)/2]), `{"query": 5}`, `{"query": null}`, `{}`, ``, `null`,
			`{"query": "{ categories { id } }", "extensions": {"persistedQuery": {"version": 1, "sha256Hash": "abc"}}}`,
			`{"query": "{ categories { id } }", "variables": "{\"a\":"}`, "\xff\xfe{", `{"query": "{ categories { id } }"}{}`))
	case "get":
		asGet(rq, query, d.vars)
	case "content-type":
		ct := pick(g, "", "text/plain", "application/graphql", "application/x-www-form-urlencoded",
			"multipart/form-data; boundary=x", "application/json; charset=utf-16", "application/xml")
		if ct == "" {
			rq.header.Del("Content-Type")
		} else {
			rq.header.Set("Content-Type", ct)
		}
		rq.note("Content-Type: %q", ct)
	}
	if opType == "query" && mut == "" && g.chance(0.15) { // queries may come by GET too
		asGet(rq, query, d.vars)
	}
	g.authorize(rq, mut == "auth")
	return rq
}

// asGet turns rq into a GET with the query and its variables in the URL.
func asGet(rq *request, query string, vars map[string]any) {
	rq.method, rq.body = "GET", nil
	rq.header.Del("Content-Type")
	q := url.Values{"query": {query}}
	if len(vars) > 0 {
		vb, _ := json.Marshal(vars)
		q.Set("variables", string(vb))
	}
	rq.query = q.Encode()
}

// call renders one field with its arguments and selection, damaged as mut
// says when it concerns the field.
func (g *gen) call(s *ast.Schema, f *ast.FieldDefinition, d *doc, mut string, rq *request) string {
	var target *ast.ArgumentDefinition
	if len(f.Arguments) > 0 {
		target = f.Arguments[g.r.IntN(len(f.Arguments))]
	}
	if mut == "input-field" {
		for _, a := range f.Arguments {
			if def := s.Types[a.Type.Name()]; def != nil && def.Kind == ast.InputObject {
				target = a
			}
		}
	}
	var args []string
	for _, a := range f.Arguments {
		if a == target && mut != "" {
			if arg, ok := g.badArg(s, a, d, mut, rq); ok {
				if arg != "" {
					args = append(args, arg)
				}
				continue
			}
		}
		if !a.Type.NonNull && !g.chance(0.5) {
			continue
		}
		v := g.gqlValue(s, a.Name, a.Type, 0)
		if g.chance(0.4) {
			args = append(args, a.Name+": $"+d.declare(a.Name, a.Type.String(), v))
		} else {
			args = append(args, a.Name+": "+literal(v))
		}
	}
	if mut == "unknown-arg" {
		args = append(args, "bogus: 1")
	}
	call := f.Name
	if len(args) > 0 {
		call += "(" + strings.Join(args, ", ") + ")"
	}
	budget := 40
	sel := g.selection(s, f.Type, 0, &budget)
	switch mut {
	case "unknown-field":
		if sel != "" && g.chance(0.5) {
			sel = strings.Replace(sel, "{ ", "{ doesNotExist ", 1)
		} else {
			call += " " + sel + " doesNotExist"
			sel = ""
		}
	case "missing-selection":
		sel = ""
	case "selection-on-scalar":
		sel = strings.Replace(sel, "{ ", "{ __typename { id } ", 1)
		if sel == "" {
			sel = "{ id }"
		}
	}
	if sel != "" {
		call += " " + sel
	}
	return call
}

// badArg renders a damaged argument; ok false when mut is not about
// arguments. An empty text leaves the argument out.
func (g *gen) badArg(s *ast.Schema, a *ast.ArgumentDefinition, d *doc, mut string, rq *request) (string, bool) {
	named := a.Type.Name()
	def := s.Types[named]
	var v any
	switch mut {
	case "wrong-type":
		switch {
		case a.Type.Elem != nil:
			v = "not a list"
		case def != nil && def.Kind == ast.InputObject:
			v = pick[any](g, "an object", json.Number("1"), []any{json.Number("1")}, map[string]any{"unknown": json.Number("1")})
		case def != nil && def.Kind == ast.Enum:
			v = pick[any](g, "RELEVANCE", enumVal("LOWEST"), json.Number("1"), enumVal("relevance"))
		case named == "Int":
			v = pick[any](g, "12", 1.5, true, []any{json.Number("1")}, map[string]any{"a": json.Number("1")}, enumVal("TWELVE"))
		case named == "Boolean":
			v = pick[any](g, "true", json.Number("1"), enumVal("yes"))
		case named == "ID":
			v = pick[any](g, true, 1.5, []any{"a", "b"}, map[string]any{"id": "x"})
		default:
			v = pick[any](g, json.Number("12"), true, []any{"a"}, map[string]any{"a": "b"}, enumVal("WORD"))
		}
		rq.note("%s: wrong type %s", a.Name, literal(v))
	case "null":
		rq.note("%s: null (non-null: %t)", a.Name, a.Type.NonNull)
		return a.Name + ": null", true
	case "missing-arg":
		rq.note("%s left out (required: %t)", a.Name, a.Type.NonNull)
		return "", true
	case "huge-string":
		n := pick(g, 30<<10, 100<<10)
		v = strings.Repeat("H", n)
		if def != nil && def.Kind == ast.InputObject {
			if m, ok := g.gqlValue(s, a.Name, a.Type, 0).(map[string]any); ok {
				if addr, ok := m["shippingAddress"].(map[string]any); ok {
					addr["line1"] = v
				}
				m["paymentToken"] = v
				v = m
			}
		}
		rq.note("%s: %d KiB string", a.Name, n>>10)
	case "nasty-string":
		str, note := g.nastyString()
		if len(str) > 60<<10 {
			str = str[:30<<10]
		}
		v = str
		if def != nil && def.Kind == ast.InputObject {
			if m, ok := g.gqlValue(s, a.Name, a.Type, 0).(map[string]any); ok {
				g.damageInput(m, str)
				v = m
			}
		}
		rq.note("%s: %s", a.Name, note)
	case "int-overflow":
		n, note := g.nastyNumber()
		v = n
		rq.note("%s: %s", a.Name, note)
	case "var-type-mismatch":
		other := pick(g, "String", "Int", "Boolean", "[ID!]", "SearchSort", "CheckoutInput", "Float!", "Unknown")
		name := d.declare(a.Name, other, g.gqlValue(s, a.Name, a.Type, 0))
		rq.note("%s: a $%s variable", a.Name, other)
		return a.Name + ": $" + name, true
	case "var-wrong-json":
		jsonType := map[string]string{"Int": "integer", "Float": "number", "Boolean": "boolean"}[named]
		if def != nil && def.Kind == ast.InputObject {
			jsonType = "object"
		} else if jsonType == "" {
			jsonType = "string"
		}
		w, note := g.wrongType(&schema{types: []string{jsonType}})
		name := d.declare(a.Name, a.Type.String(), w)
		rq.note("%s: variable %s", a.Name, note)
		return a.Name + ": $" + name, true
	case "undeclared-var":
		rq.note("%s: undeclared variable", a.Name)
		return a.Name + ": $undeclared", true
	case "input-field":
		m, ok := g.gqlValue(s, a.Name, a.Type, 0).(map[string]any)
		if !ok {
			return "", false
		}
		switch g.r.IntN(3) {
		case 0:
			m["unknownField"] = "x"
			rq.note("%s: unknown input field", a.Name)
		case 1:
			if keys := sortedKeys(m); len(keys) > 0 {
				k := keys[g.r.IntN(len(keys))]
				delete(m, k)
				rq.note("%s: input field %s left out", a.Name, k)
			}
		default:
			g.damageInput(m, nil)
			rq.note("%s: an input field null", a.Name)
		}
		v = m
	default:
		return "", false
	}
	if g.chance(0.4) && mut != "huge-string" {
		return a.Name + ": $" + d.declare(a.Name, a.Type.String(), v), true
	}
	return a.Name + ": " + literal(v), true
}

// damageInput sets one field of an input object, or of an object in it, to v.
func (g *gen) damageInput(m map[string]any, v any) {
	if addr, ok := m["shippingAddress"].(map[string]any); ok && g.chance(0.5) {
		m = addr
	}
	keys := sortedKeys(m)
	if len(keys) > 0 {
		m[keys[g.r.IntN(len(keys))]] = v
	}
}

// gqlValue is a valid value of t for an argument or input field named name.
func (g *gen) gqlValue(s *ast.Schema, name string, t *ast.Type, depth int) any {
	if t.Elem != nil {
		out := []any{}
		for range 1 + g.r.IntN(2) {
			out = append(out, g.gqlValue(s, name, t.Elem, depth+1))
		}
		return out
	}
	def := s.Types[t.NamedType]
	if def != nil && def.Kind == ast.Enum {
		return enumVal(def.EnumValues[g.r.IntN(len(def.EnumValues))].Name)
	}
	if def != nil && def.Kind == ast.InputObject {
		m := map[string]any{}
		for _, f := range def.Fields {
			if f.Type.NonNull || (depth < 3 && g.chance(0.5)) {
				m[f.Name] = g.gqlValue(s, f.Name, f.Type, depth+1)
			}
		}
		return m
	}
	switch t.NamedType {
	case "ID":
		return g.id(name)
	case "Int":
		return g.integer(name, nil)
	case "Float":
		return float64(g.integer(name, nil)) + 0.25
	case "Boolean":
		return g.chance(0.5)
	}
	switch name {
	case "q":
		return g.words(1 + g.r.IntN(3))
	case "category":
		return g.category()
	case "pageToken":
		return g.token(24)
	case "paymentToken":
		return g.str("payment_token", nil)
	case "idempotencyKey":
		k := g.uuid()
		if g.chance(0.1) {
			if old := g.w.pick(g.r, &g.w.idemKeys); old != "" {
				k = old
			}
		}
		g.w.add(&g.w.idemKeys, k)
		return k
	case "postalCode":
		return g.str("postal_code", nil)
	case "country":
		return g.str("country", nil)
	case "name":
		return "Fuzz " + g.words(2)
	}
	return g.words(1 + g.r.IntN(2))
}

// selection is a selection set for type t, at most budget fields.
func (g *gen) selection(s *ast.Schema, t *ast.Type, depth int, budget *int) string {
	def := s.Types[t.Name()]
	if def == nil || (def.Kind != ast.Object && def.Kind != ast.Interface) {
		return ""
	}
	var parts []string
	for _, f := range def.Fields {
		if strings.HasPrefix(f.Name, "__") || *budget <= 0 {
			continue
		}
		required := false
		for _, a := range f.Arguments {
			required = required || a.Type.NonNull
		}
		if required {
			continue
		}
		inner := s.Types[f.Type.Name()]
		if inner != nil && (inner.Kind == ast.Object || inner.Kind == ast.Interface) {
			if depth >= 2 || !g.chance(0.5) {
				continue
			}
			*budget--
			if sub := g.selection(s, f.Type, depth+1, budget); sub != "" {
				parts = append(parts, f.Name+" "+sub)
			}
			continue
		}
		if g.chance(0.7) {
			*budget--
			parts = append(parts, f.Name)
		}
	}
	if len(parts) == 0 {
		parts = append(parts, "__typename")
	}
	return "{ " + strings.Join(parts, " ") + " }"
}

const introspectionQuery = `query IntrospectionQuery { __schema { queryType { name } mutationType { name }
 types { ...FullType } directives { name description locations args { ...InputValue } } } }
fragment FullType on __Type { kind name description fields(includeDeprecated: true) { name description
 args { ...InputValue } type { ...TypeRef } isDeprecated deprecationReason } inputFields { ...InputValue }
 interfaces { ...TypeRef } enumValues(includeDeprecated: true) { name description isDeprecated deprecationReason }
 possibleTypes { ...TypeRef } }
fragment InputValue on __InputValue { name description type { ...TypeRef } defaultValue }
fragment TypeRef on __Type { kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name
 ofType { kind name ofType { kind name ofType { kind name } } } } } } } }`
