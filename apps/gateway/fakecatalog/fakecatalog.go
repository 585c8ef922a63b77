// Package fakecatalog is a catalog for tests: it answers from a function
// the test supplies and records every call, so handler, resolver and cache
// tests need no sidecar.
package fakecatalog

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/shopmesh/shopmesh/apps/gateway/catalogclient"
	"github.com/shopmesh/shopmesh/internal/contracts"
	"github.com/shopmesh/shopmesh/internal/platform/problem"
)

// Call is one call the fake received.
type Call struct {
	Method string // ListProducts, Product, Categories, CreateProduct, ReplaceProduct, DeleteProduct
	ID     string
	Query  catalogclient.ListQuery
	Body   []byte
}

// Catalog implements every method of the catalog client.
type Catalog struct {
	// Answer answers each call; nil answers 200 {} to everything.
	Answer func(Call) (catalogclient.Response, error)

	mu    sync.Mutex
	calls []Call
}

// New returns a fake that answers with answer.
func New(answer func(Call) (catalogclient.Response, error)) *Catalog {
	return &Catalog{Answer: answer}
}

// Calls returns the calls received so far.
func (f *Catalog) Calls() []Call {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]Call(nil), f.calls...)
}

func (f *Catalog) call(c Call) (catalogclient.Response, error) {
	f.mu.Lock()
	f.calls = append(f.calls, c)
	answer := f.Answer
	f.mu.Unlock()
	if answer == nil {
		return JSON(http.StatusOK, map[string]any{}), nil
	}
	return answer(c)
}

// ListProducts implements the catalog client.
func (f *Catalog) ListProducts(_ context.Context, q catalogclient.ListQuery) (catalogclient.Response, error) {
	return f.call(Call{Method: "ListProducts", Query: q})
}

// Product implements the catalog client.
func (f *Catalog) Product(_ context.Context, id string) (catalogclient.Response, error) {
	return f.call(Call{Method: "Product", ID: id})
}

// Categories implements the catalog client.
func (f *Catalog) Categories(context.Context) (catalogclient.Response, error) {
	return f.call(Call{Method: "Categories"})
}

// CreateProduct implements the catalog client.
func (f *Catalog) CreateProduct(_ context.Context, body []byte) (catalogclient.Response, error) {
	return f.call(Call{Method: "CreateProduct", Body: body})
}

// ReplaceProduct implements the catalog client.
func (f *Catalog) ReplaceProduct(_ context.Context, id string, body []byte) (catalogclient.Response, error) {
	return f.call(Call{Method: "ReplaceProduct", ID: id, Body: body})
}

// DeleteProduct implements the catalog client.
func (f *Catalog) DeleteProduct(_ context.Context, id string) (catalogclient.Response, error) {
	return f.call(Call{Method: "DeleteProduct", ID: id})
}

// JSON is an answer with v as its JSON body.
func JSON(status int, v any) catalogclient.Response {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return catalogclient.Response{Status: status, ContentType: "application/json; charset=utf-8", Body: b}
}

// Problem is a problem+json answer as the catalog writes them.
func Problem(p *problem.Problem) catalogclient.Response {
	b, err := json.Marshal(p)
	if err != nil {
		panic(err)
	}
	return catalogclient.Response{Status: p.Status, ContentType: problem.ContentType, Body: b}
}

// Unavailable is the error of a catalog that cannot be reached.
func Unavailable() error {
	return fmt.Errorf("invoke catalog: dial tcp 127.0.0.1:3602: connect: connection refused: %w", catalogclient.ErrUnavailable)
}

// Kettle is a product to answer with.
func Kettle(id string) catalogclient.Product {
	at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	return catalogclient.Product{
		ID: id, SKU: "KIT-1", Name: "Kettle", Description: "Boils.", Category: "kitchen",
		Price: contracts.Money{Amount: 3999, Currency: "USD"}, ImageURL: "https://img.example/k.jpg",
		InStock: true, Version: 1, CreatedAt: at, UpdatedAt: at,
	}
}
