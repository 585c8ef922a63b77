package graphql

import (
	"context"
	"fmt"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
)

// mutationLimit refuses an operation with more top-level mutation fields
// (aliases and fragments included) than max. Mutations run one after
// another, and each may reach the saga: the complexity limit alone let a
// request alias checkout 100 times and hold its connection past any client
// timeout under load (found by tests/fuzz).
type mutationLimit struct{ max int }

var _ interface {
	graphql.HandlerExtension
	graphql.OperationContextMutator
} = mutationLimit{}

func (mutationLimit) ExtensionName() string                   { return "MutationLimit" }
func (mutationLimit) Validate(graphql.ExecutableSchema) error { return nil }
func (m mutationLimit) MutateOperationContext(_ context.Context, oc *graphql.OperationContext) *gqlerror.Error {
	if oc.Operation == nil || oc.Operation.Operation != ast.Mutation {
		return nil
	}
	if n := countFields(oc.Operation.SelectionSet, map[string]bool{}); n > m.max {
		err := gqlerror.Errorf("operation has %d mutations, more than the limit of %d", n, m.max)
		err.Extensions = map[string]any{"code": "MUTATION_LIMIT_EXCEEDED"}
		return err
	}
	return nil
}

// countFields counts the fields a selection set runs at its top level,
// following fragments once each (a cycle is the validator's to refuse).
func countFields(set ast.SelectionSet, seen map[string]bool) int {
	n := 0
	for _, s := range set {
		switch s := s.(type) {
		case *ast.Field:
			n++
		case *ast.InlineFragment:
			n += countFields(s.SelectionSet, seen)
		case *ast.FragmentSpread:
			if s.Definition != nil && !seen[s.Name] {
				seen[s.Name] = true
				n += countFields(s.Definition.SelectionSet, seen)
			}
		}
	}
	return n
}

func (m mutationLimit) String() string { return fmt.Sprintf("at most %d mutations", m.max) }
