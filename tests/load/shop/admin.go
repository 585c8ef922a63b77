package shop

import (
	"context"
	"fmt"
	"net/http"
	"time"
)

// Admin is a signed-in administrator.
type Admin struct {
	gateway string
	client  *http.Client
	token   string
}

// SignInAdmin signs in with the Config's admin credentials.
func SignInAdmin(ctx context.Context, c Config) (*Admin, error) {
	email, password, err := c.adminCredentials()
	if err != nil {
		return nil, err
	}
	a := &Admin{gateway: c.Gateway, client: newClient(nil)}
	var tok tokenAnswer
	if err := callSetup(ctx, a.client, http.MethodPost, c.Gateway+"/api/v1/auth/login", "",
		map[string]string{"email": email, "password": password}, &tok, http.StatusOK); err != nil {
		return nil, fmt.Errorf("admin sign-in: %w", err)
	}
	a.token = tok.AccessToken
	return a, nil
}

// CreateProduct adds a product of its own to the catalog with units in
// stock, so a run's orders compete with no other run's for stock.
func (a *Admin) CreateProduct(ctx context.Context, units int64) (string, error) {
	sku := fmt.Sprintf("LOAD-%d", time.Now().UnixNano())
	var p struct {
		ID string `json:"id"`
	}
	err := callSetup(ctx, a.client, http.MethodPost, a.gateway+"/api/v1/products", a.token, map[string]any{
		"sku": sku, "name": "Load Test Teapot " + sku, "description": "Made by the load scenario.",
		"category": "kitchen", "price": map[string]any{"amount": 2599, "currency": "USD"},
		"image_url": "https://images.shopmesh.dev/products/load.jpg",
	}, &p, http.StatusCreated)
	if err != nil {
		return "", fmt.Errorf("creating the product: %w", err)
	}
	err = callSetup(ctx, a.client, http.MethodPut, a.gateway+"/api/v1/inventory/"+p.ID, a.token,
		map[string]any{"available": units}, nil, http.StatusOK)
	if err != nil {
		return "", fmt.Errorf("stocking product %s: %w", p.ID, err)
	}
	return p.ID, nil
}

// Close releases the admin's idle connections.
func (a *Admin) Close() { a.client.CloseIdleConnections() }

// tokenAnswer is the answer of sign-in and token refresh.
type tokenAnswer struct {
	AccessToken  string `json:"access_token"`
	RefreshToken string `json:"refresh_token"`
	ExpiresIn    int64  `json:"expires_in"`
}
