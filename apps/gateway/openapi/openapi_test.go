package openapi_test

import (
	"encoding/json"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/pb33f/libopenapi"
	"github.com/pb33f/libopenapi/datamodel"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shopmesh/shopmesh/apps/gateway/catalogclient"
	"github.com/shopmesh/shopmesh/apps/gateway/openapi"
	"github.com/shopmesh/shopmesh/apps/gateway/ordersclient"
	"github.com/shopmesh/shopmesh/apps/gateway/searchclient"
	"github.com/shopmesh/shopmesh/apps/gateway/usersclient"
	"github.com/shopmesh/shopmesh/internal/contracts"
)

func TestDocumentIsValidOpenAPI31(t *testing.T) {
	served, err := openapi.JSON()
	require.NoError(t, err)
	for name, src := range map[string][]byte{"openapi.yaml": openapi.YAML, "/openapi.json": served} {
		t.Run(name, func(t *testing.T) {
			doc, err := libopenapi.NewDocument(src)
			require.NoError(t, err)
			assert.Equal(t, datamodel.OAS31, doc.GetSpecInfo().SpecFormat)
			model, err := doc.BuildV3Model()
			require.NoError(t, err, "the document builds without errors")
			assert.Empty(t, model.Index.GetReferenceIndexErrors(), "every $ref resolves")
			assert.Empty(t, model.Index.GetOperationParametersIndexErrors())
			if r := model.Index.GetRolodex(); r != nil {
				assert.Empty(t, r.GetCaughtErrors())
			}

			ids := map[string]bool{}
			for path, item := range model.Model.Paths.PathItems.FromOldest() {
				for method, op := range item.GetOperations().FromOldest() {
					where := strings.ToUpper(method) + " " + path
					require.NotEmpty(t, op.OperationId, where)
					assert.False(t, ids[op.OperationId], "operationId %s is unique", op.OperationId)
					ids[op.OperationId] = true
					require.NotNil(t, op.Responses, where)
					assert.Positive(t, op.Responses.Codes.Len(), "%s documents its responses", where)
				}
			}
		})
	}
}

// The document's schemas name exactly the fields the catalog serves.
func TestSchemasMatchTheWireTypes(t *testing.T) {
	var doc struct {
		Components struct {
			Schemas map[string]struct {
				Properties map[string]json.RawMessage `json:"properties"`
			} `json:"schemas"`
			Parameters map[string]struct {
				Name   string `json:"name"`
				Schema struct {
					Minimum *int `json:"minimum"`
					Maximum *int `json:"maximum"`
				} `json:"schema"`
			} `json:"parameters"`
		} `json:"components"`
	}
	served, err := openapi.JSON()
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(served, &doc))

	for schema, v := range map[string]any{
		"Product":      catalogclient.Product{},
		"Money":        contracts.Money{},
		"ProductPage":  catalogclient.ProductPage{},
		"Category":     catalogclient.Category{},
		"CategoryList": catalogclient.CategoryList{},
		"Me":           usersclient.Me{},
		"Address":      usersclient.Address{},

		"SearchResult":     searchclient.Result{},
		"SearchHit":        searchclient.Hit{},
		"Cart":             ordersclient.Cart{},
		"CartItem":         ordersclient.CartItem{},
		"AddCartItem":      ordersclient.AddItem{},
		"ShippingAddress":  ordersclient.Address{},
		"CheckoutRequest":  ordersclient.CheckoutRequest{},
		"CheckoutAccepted": ordersclient.CheckoutResult{},
		"Order":            ordersclient.Order{},
		"OrderItem":        ordersclient.OrderItem{},
		"TimelineEntry":    ordersclient.TimelineEntry{},
		"OrderList":        ordersclient.OrderList{},
	} {
		s, ok := doc.Components.Schemas[schema]
		require.True(t, ok, "schema %s", schema)
		assert.ElementsMatch(t, jsonFields(reflect.TypeOf(v)), keys(s.Properties), schema)
	}
	assert.ElementsMatch(t, []string{"sku", "name", "description", "category", "price", "image_url"},
		keys(doc.Components.Schemas["ProductInput"].Properties))
	assert.Subset(t, keys(doc.Components.Schemas["Problem"].Properties), []string{"type", "title", "status", "detail", "errors"})

	ps := doc.Components.Parameters["page_size"]
	assert.Equal(t, "page_size", ps.Name)
	require.NotNil(t, ps.Schema.Minimum)
	require.NotNil(t, ps.Schema.Maximum)
	assert.Equal(t, 1, *ps.Schema.Minimum)
	assert.Equal(t, catalogclient.MaxPageSize, *ps.Schema.Maximum)
	assert.Equal(t, "category", doc.Components.Parameters["category"].Name)
	assert.Equal(t, "page_token", doc.Components.Parameters["page_token"].Name)
	assert.Equal(t, searchclient.Parameters, searchParameters(t), "GET /api/v1/search documents the parameters the gateway passes on")
	assert.Equal(t, "Idempotency-Key", doc.Components.Parameters["Idempotency-Key"].Name)
}

// searchParameters are the query parameters documented on GET /api/v1/search.
func searchParameters(t *testing.T) []string {
	t.Helper()
	doc, err := libopenapi.NewDocument(openapi.YAML)
	require.NoError(t, err)
	model, err := doc.BuildV3Model()
	require.NoError(t, err)
	item, ok := model.Model.Paths.PathItems.Get("/api/v1/search")
	require.True(t, ok)
	var names []string
	for _, p := range item.Get.Parameters {
		names = append(names, p.Name)
	}
	return names
}

func jsonFields(t reflect.Type) []string {
	var out []string
	for f := range t.Fields() {
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name != "-" {
			out = append(out, name)
		}
	}
	return out
}

func keys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
