// Package shop drives a running ShopMesh through its public API the way
// the load scenarios need it: an admin stocks a product, shoppers each
// connect from an address of their own and add to cart and check out at a
// rate vegeta paces, then every accepted order is followed until it
// settles. The scenarios (tests/load/checkout, tests/load/bench) only
// choose rates and print.
package shop

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"math/rand/v2"
	"net"
	"net/url"
	"os"
	"path/filepath"
)

// Config says where the shop is and who administers it.
type Config struct {
	Gateway       string // base URL, e.g. http://127.0.0.1:8080
	AdminEmail    string // empty: read from Secrets
	AdminPassword string // empty: read from Secrets
	Secrets       string // JSON file with admin-email and admin-password; empty: .local/secrets.json of the checkout
	ShopperAddrs  string // "auto", "none" or an IPv4 prefix (see ParseAddrs)

	// The environment's admin credentials, used where the flags give none;
	// not flag defaults, which -h would print.
	envAdminEmail, envAdminPassword string
}

// RegisterFlags adds the Config's flags to fs, with defaults from the
// environment (getenv is os.Getenv outside tests) so the same command can
// point at a deployed gateway.
func (c *Config) RegisterFlags(fs *flag.FlagSet, getenv func(string) string) {
	gateway := getenv("SHOPMESH_GATEWAY")
	if gateway == "" {
		gateway = getenv("SHOPMESH_GATEWAY_URL") // the e2e suite's name for it
	}
	if gateway == "" {
		gateway = "http://127.0.0.1:8080"
	}
	addrs := getenv("SHOPMESH_SHOPPER_ADDRS")
	if addrs == "" {
		addrs = "auto"
	}
	fs.StringVar(&c.Gateway, "gateway", gateway, "the gateway's base URL (env SHOPMESH_GATEWAY)")
	c.envAdminEmail, c.envAdminPassword = getenv("SHOPMESH_ADMIN_EMAIL"), getenv("SHOPMESH_ADMIN_PASSWORD")
	fs.StringVar(&c.AdminEmail, "admin-email", "", "admin e-mail (default: env SHOPMESH_ADMIN_EMAIL, else admin-email of the secrets file)")
	fs.StringVar(&c.AdminPassword, "admin-password", "", "admin password (default: env SHOPMESH_ADMIN_PASSWORD, else admin-password of the secrets file)")
	fs.StringVar(&c.Secrets, "secrets", "", "the local secrets file with the admin account (default: .local/secrets.json of this checkout)")
	fs.StringVar(&c.ShopperAddrs, "shopper-addrs", addrs, "shoppers' source addresses (env SHOPMESH_SHOPPER_ADDRS): auto (127.0.0.0/8 for a gateway on this machine, else none), none (the system's), or an IPv4 prefix this host owns")
}

// GatewayIsLocal reports whether the gateway's URL names this machine by
// a loopback address (or "localhost"): only then do the shop's processes
// run here.
func (c Config) GatewayIsLocal() (bool, error) {
	u, err := url.Parse(c.Gateway)
	if err != nil || u.Host == "" {
		return false, fmt.Errorf("gateway %q: not an absolute URL", c.Gateway)
	}
	host := u.Hostname()
	if host == "localhost" {
		return true, nil
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback(), nil
}

// adminCredentials returns the admin's e-mail and password: the flags',
// else the environment's, else the secrets file's.
func (c Config) adminCredentials() (email, password string, err error) {
	email, password = cmp.Or(c.AdminEmail, c.envAdminEmail), cmp.Or(c.AdminPassword, c.envAdminPassword)
	if email != "" && password != "" {
		return email, password, nil
	}
	path := c.Secrets
	if path == "" {
		if path, err = localSecrets(); err != nil {
			return "", "", err
		}
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		return "", "", fmt.Errorf("admin credentials: %w (or set SHOPMESH_ADMIN_EMAIL and SHOPMESH_ADMIN_PASSWORD)", err)
	}
	var secrets map[string]any
	if err := json.Unmarshal(raw, &secrets); err != nil {
		return "", "", fmt.Errorf("admin credentials %s: %w", path, err)
	}
	if email == "" {
		email, _ = secrets["admin-email"].(string)
	}
	if password == "" {
		password, _ = secrets["admin-password"].(string)
	}
	if email == "" || password == "" {
		return "", "", fmt.Errorf("admin credentials %s: no admin-email or admin-password", path)
	}
	return email, password, nil
}

// localSecrets finds .local/secrets.json of the checkout the command runs
// in (its root holds dapr/dapr.yaml).
func localSecrets() (string, error) {
	wd, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("admin credentials: %w", err)
	}
	for dir := wd; ; dir = filepath.Dir(dir) {
		if _, err := os.Stat(filepath.Join(dir, "dapr", "dapr.yaml")); err == nil {
			return filepath.Join(dir, ".local", "secrets.json"), nil
		}
		if filepath.Dir(dir) == dir {
			return "", errors.New("admin credentials: not in a ShopMesh checkout; pass -secrets or set SHOPMESH_ADMIN_EMAIL and SHOPMESH_ADMIN_PASSWORD")
		}
	}
}

// Connect checks that the gateway answers and returns the shoppers'
// source addresses, and whether the gateway runs on this machine.
func (c Config) Connect(ctx context.Context) (*Addrs, bool, error) {
	local, err := c.GatewayIsLocal()
	if err != nil {
		return nil, false, err
	}
	if err := Ready(ctx, c.Gateway); err != nil {
		return nil, false, err
	}
	addrs, err := ParseAddrs(c.ShopperAddrs, local, rand.Uint32())
	if err != nil {
		return nil, false, err
	}
	return addrs, local, nil
}
