package fuzz

import (
	"fmt"
	"slices"
	"strings"

	"github.com/pb33f/libopenapi"
	"github.com/pb33f/libopenapi/datamodel/high/base"
	v3 "github.com/pb33f/libopenapi/datamodel/high/v3"
)

// authNeed is what an operation's security asks of the caller.
type authNeed int

const (
	authNone     authNeed = iota // no security requirement (probes, sign-in)
	authOptional                 // a token may be sent
	authRequired                 // a token must be sent
)

// restOp is one operation of the OpenAPI document, reduced to what the
// generator needs.
type restOp struct {
	method string // upper case
	path   string // the template, such as /api/v1/products/{id}
	params []param
	body   *schema // the application/json request body, nil when none
	auth   authNeed
}

func (o *restOp) route() string { return o.method + " " + o.path }

func (o *restOp) paramsIn(in string) []param {
	var out []param
	for _, p := range o.params {
		if p.in == in {
			out = append(out, p)
		}
	}
	return out
}

type param struct {
	name, in string
	required bool
	schema   *schema
}

// schema is the part of a JSON Schema that generating values needs.
type schema struct {
	types      []string
	props      map[string]*schema
	order      []string // property names in document order
	required   []string
	items      *schema
	enum       []string
	min, max   *float64
	minLen     *int64
	maxLen     *int64
	pattern    string
	format     string
	examples   []string
	closed     bool // additionalProperties: false
	isRequired map[string]bool
}

// typ is the schema's first type that is not null ("string" when none).
func (s *schema) typ() string {
	for _, t := range s.types {
		if t != "null" {
			return t
		}
	}
	if len(s.props) > 0 {
		return "object"
	}
	return "string"
}

// loadOpenAPI reads the operations of an OpenAPI 3.1 document. /graphql is
// left to the GraphQL generator.
func loadOpenAPI(doc []byte) ([]*restOp, error) {
	d, err := libopenapi.NewDocument(doc)
	if err != nil {
		return nil, fmt.Errorf("parsing the OpenAPI document: %w", err)
	}
	m, err := d.BuildV3Model()
	if err != nil {
		return nil, fmt.Errorf("building the OpenAPI model: %w", err)
	}
	if m.Model.Paths == nil {
		return nil, fmt.Errorf("the OpenAPI document has no paths")
	}
	var ops []*restOp
	for path, item := range m.Model.Paths.PathItems.FromOldest() {
		if path == "/graphql" {
			continue
		}
		for method, op := range item.GetOperations().FromOldest() {
			o := &restOp{method: strings.ToUpper(method), path: path, auth: authOf(op.Security, m.Model.Security)}
			for _, p := range slices.Concat(item.Parameters, op.Parameters) {
				o.params = append(o.params, param{
					name: p.Name, in: p.In, required: p.Required != nil && *p.Required,
					schema: convert(p.Schema, 0),
				})
			}
			o.body = requestBody(op)
			ops = append(ops, o)
		}
	}
	if len(ops) == 0 {
		return nil, fmt.Errorf("the OpenAPI document has no operations")
	}
	return ops, nil
}

func requestBody(op *v3.Operation) *schema {
	if op.RequestBody == nil || op.RequestBody.Content == nil {
		return nil
	}
	mt, ok := op.RequestBody.Content.Get("application/json")
	if !ok || mt.Schema == nil {
		return nil
	}
	return convert(mt.Schema, 0)
}

func authOf(op, global []*base.SecurityRequirement) authNeed {
	reqs := op
	if reqs == nil {
		reqs = global
	}
	if len(reqs) == 0 {
		return authNone
	}
	need := authRequired
	named := false
	for _, r := range reqs {
		if r.ContainsEmptyRequirement || r.Requirements == nil || r.Requirements.Len() == 0 {
			need = authOptional
		} else {
			named = true
		}
	}
	if !named {
		return authNone
	}
	return need
}

// convert turns a libopenapi schema into ours; depth stops cycles.
func convert(sp *base.SchemaProxy, depth int) *schema {
	if sp == nil || depth > 8 {
		return nil
	}
	s := sp.Schema()
	if s == nil {
		return nil
	}
	out := &schema{
		types: s.Type, required: s.Required, min: s.Minimum, max: s.Maximum,
		minLen: s.MinLength, maxLen: s.MaxLength, pattern: s.Pattern, format: s.Format,
		isRequired: map[string]bool{},
	}
	for _, r := range s.Required {
		out.isRequired[r] = true
	}
	for _, e := range s.Enum {
		if e != nil {
			out.enum = append(out.enum, e.Value)
		}
	}
	for _, e := range s.Examples {
		if e != nil && e.Value != "" {
			out.examples = append(out.examples, e.Value)
		}
	}
	if s.Properties != nil {
		out.props = map[string]*schema{}
		for name, p := range s.Properties.FromOldest() {
			out.props[name] = convert(p, depth+1)
			out.order = append(out.order, name)
		}
	}
	if s.Items != nil && s.Items.IsA() {
		out.items = convert(s.Items.A, depth+1)
	}
	if ap := s.AdditionalProperties; ap != nil && ap.IsB() && !ap.B {
		out.closed = true
	}
	return out
}
