// Command checkout is a load scenario for the running stack: shoppers add a
// product to their cart and check out at a steady rate (vegeta paces the
// requests) for a while, then the scenario waits for every accepted order to
// settle and prints what the platform did: orders confirmed per second and
// the placed → confirmed latency (from each order's own timeline).
//
//	go tool task up
//	go run ./tests/load/checkout -rate 10 -duration 60s
//
// Each shopper connects from its own loopback address (127.x.y.z), as real
// shoppers come from their own addresses, so the gateway's per-client rate
// limits apply per shopper and not to the whole run.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"sync"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"
)

func main() {
	var o options
	flag.StringVar(&o.gateway, "gateway", "http://127.0.0.1:8080", "the gateway's base URL")
	flag.Float64Var(&o.rate, "rate", 10, "checkouts per second (each with its add-to-cart)")
	flag.DurationVar(&o.duration, "duration", 60*time.Second, "how long to place orders")
	flag.IntVar(&o.shoppers, "shoppers", 0, "number of shoppers (default: enough that a shopper's two steps are 10 s apart)")
	flag.DurationVar(&o.settle, "settle", 3*time.Minute, "how long to wait for accepted orders to settle")
	flag.StringVar(&o.secrets, "secrets", "", "the local secrets file with the admin account (default: .local/secrets.json of this checkout)")
	flag.Parse()
	if err := run(context.Background(), o); err != nil {
		log.Fatal(err)
	}
}

type options struct {
	gateway  string
	rate     float64
	duration time.Duration
	shoppers int
	settle   time.Duration
	secrets  string
}

func run(ctx context.Context, o options) error {
	if o.rate <= 0 || o.duration <= 0 {
		return errors.New("rate and duration must be positive")
	}
	if o.shoppers == 0 {
		o.shoppers = max(20, int(o.rate*10))
	}
	admin, err := signInAdmin(ctx, o)
	if err != nil {
		return err
	}
	units := int64(o.rate*o.duration.Seconds())*2 + 100
	productID, err := createProduct(ctx, o.gateway, admin, units)
	if err != nil {
		return err
	}
	log.Printf("product %s with %d units; signing up %d shoppers", productID, units, o.shoppers)
	shoppers, err := signUpShoppers(ctx, o.gateway, o.shoppers)
	if err != nil {
		return err
	}

	log.Printf("placing %.1f orders/s for %s", o.rate, o.duration)
	started := time.Now()
	placed, checkoutLatency, err := attack(o, shoppers, productID)
	if err != nil {
		return err
	}
	log.Printf("%d checkouts accepted; waiting for them to settle", len(placed))
	settled, err := settle(ctx, o, shoppers, len(placed))
	if err != nil {
		return err
	}
	report(os.Stdout, o, started, placed, settled, checkoutLatency)
	return nil
}

// shopper is a signed-in customer with its own source address.
type shopper struct {
	client *http.Client
	token  string
}

func newClient() *http.Client {
	ip := net.IPv4(127, byte(1+rand.IntN(254)), byte(rand.IntN(256)), byte(1+rand.IntN(254)))
	dialer := &net.Dialer{LocalAddr: &net.TCPAddr{IP: ip}, Timeout: 5 * time.Second}
	return &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{DialContext: dialer.DialContext, MaxIdleConnsPerHost: 4}}
}

func doJSON(ctx context.Context, c *http.Client, method, url, token string, body, out any, want int) error {
	var rd io.Reader
	if body != nil {
		data, err := json.Marshal(body)
		if err != nil {
			return err
		}
		rd = bytes.NewReader(data)
	}
	req, err := http.NewRequestWithContext(ctx, method, url, rd)
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := c.Do(req)
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, url, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, url, err)
	}
	if resp.StatusCode != want {
		return fmt.Errorf("%s %s: %d %s", method, url, resp.StatusCode, data)
	}
	if out != nil {
		return json.Unmarshal(data, out)
	}
	return nil
}

func signInAdmin(ctx context.Context, o options) (string, error) {
	path := o.secrets
	if path == "" {
		wd, err := os.Getwd()
		if err != nil {
			return "", err
		}
		for dir := wd; ; dir = filepath.Dir(dir) {
			if _, err := os.Stat(filepath.Join(dir, "dapr", "dapr.yaml")); err == nil {
				path = filepath.Join(dir, ".local", "secrets.json")
				break
			}
			if filepath.Dir(dir) == dir {
				return "", errors.New("run from the checkout or pass -secrets")
			}
		}
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("admin credentials: %w", err)
	}
	var secrets map[string]string
	if err := json.Unmarshal(raw, &secrets); err != nil {
		return "", fmt.Errorf("admin credentials %s: %w", path, err)
	}
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	err = doJSON(ctx, newClient(), http.MethodPost, o.gateway+"/api/v1/auth/login", "",
		map[string]string{"email": secrets["admin-email"], "password": secrets["admin-password"]}, &tok, http.StatusOK)
	return tok.AccessToken, err
}

func createProduct(ctx context.Context, gateway, admin string, units int64) (string, error) {
	c := newClient()
	sku := fmt.Sprintf("LOAD-%d", time.Now().UnixNano())
	var p struct {
		ID string `json:"id"`
	}
	err := doJSON(ctx, c, http.MethodPost, gateway+"/api/v1/products", admin, map[string]any{
		"sku": sku, "name": "Load Test Teapot " + sku, "description": "Made by the load scenario.",
		"category": "kitchen", "price": map[string]any{"amount": 2599, "currency": "USD"},
		"image_url": "https://images.shopmesh.dev/products/load.jpg",
	}, &p, http.StatusCreated)
	if err != nil {
		return "", err
	}
	err = doJSON(ctx, c, http.MethodPut, gateway+"/api/v1/inventory/"+p.ID, admin, map[string]any{"available": units}, nil, http.StatusOK)
	return p.ID, err
}

func signUpShoppers(ctx context.Context, gateway string, n int) ([]shopper, error) {
	out := make([]shopper, n)
	errs := make([]error, n)
	sem := make(chan struct{}, 4) // argon2id is expensive: a few at a time
	var wg sync.WaitGroup
	for i := range out {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			c := newClient()
			email := fmt.Sprintf("load-%d-%d@load.shopmesh.dev", time.Now().UnixNano(), i)
			const password = "load-scenario-pass-1"
			if err := doJSON(ctx, c, http.MethodPost, gateway+"/api/v1/auth/register", "",
				map[string]string{"email": email, "password": password, "name": "Load Shopper"}, nil, http.StatusCreated); err != nil {
				errs[i] = err
				return
			}
			var tok struct {
				AccessToken string `json:"access_token"`
			}
			errs[i] = doJSON(ctx, c, http.MethodPost, gateway+"/api/v1/auth/login", "",
				map[string]string{"email": email, "password": password}, &tok, http.StatusOK)
			out[i] = shopper{client: c, token: tok.AccessToken}
		}()
	}
	wg.Wait()
	return out, errors.Join(errs...)
}

// attack paces add-to-cart and checkout requests: the n-th target belongs
// to shopper n mod S, and a shopper's targets alternate between adding one
// unit and checking out, so a shopper's two steps are S targets apart.
func attack(o options, shoppers []shopper, productID string) ([]string, []time.Duration, error) {
	s := len(shoppers)
	addBody, _ := json.Marshal(map[string]any{"product_id": productID, "quantity": 1})
	checkoutBody, _ := json.Marshal(map[string]any{
		"shipping_address": map[string]any{"name": "Load Shopper", "line1": "1 Load Street", "city": "Lisbon", "postal_code": "1000-001", "country": "PT"},
		"payment_token":    "tok_visa",
	})
	run := time.Now().UnixNano()
	var mu sync.Mutex
	n := 0
	targeter := func(t *vegeta.Target) error {
		mu.Lock()
		i := n
		n++
		mu.Unlock()
		who, round := i%s, i/s
		t.Header = http.Header{
			"Authorization":  {"Bearer " + shoppers[who].token},
			"Content-Type":   {"application/json"},
			"X-Load-Shopper": {fmt.Sprint(who)},
		}
		if round%2 == 0 {
			t.Method, t.URL, t.Body = http.MethodPost, o.gateway+"/api/v1/cart/items", addBody
			return nil
		}
		t.Method, t.URL, t.Body = http.MethodPost, o.gateway+"/api/v1/checkout", checkoutBody
		t.Header.Set("Idempotency-Key", fmt.Sprintf("load-%d-%d-%d", run, who, round))
		return nil
	}

	// Every shopper has a source address of its own: route each request
	// through its shopper's client.
	transport := roundTripperFunc(func(r *http.Request) (*http.Response, error) {
		var who int
		fmt.Sscan(r.Header.Get("X-Load-Shopper"), &who)
		r.Header.Del("X-Load-Shopper")
		return shoppers[who].client.Transport.RoundTrip(r)
	})
	attacker := vegeta.NewAttacker(vegeta.Client(&http.Client{Timeout: 30 * time.Second, Transport: transport}), vegeta.MaxBody(4096))
	pacer := vegeta.ConstantPacer{Freq: int(o.rate * 2 * 1000), Per: 1000 * time.Second}

	var placed []string
	var latencies []time.Duration
	failures := map[string]int{}
	for res := range attacker.Attack(targeter, pacer, o.duration, "checkout") {
		isCheckout := res.Method == http.MethodPost && bytes.HasSuffix([]byte(res.URL), []byte("/checkout"))
		if res.Code != http.StatusOK && res.Code != http.StatusAccepted {
			failures[fmt.Sprintf("%s %d %s", res.URL, res.Code, res.Error)]++
		}
		if !isCheckout || res.Code != http.StatusAccepted {
			continue
		}
		latencies = append(latencies, res.Latency)
		var a struct {
			OrderID string `json:"order_id"`
		}
		if err := json.Unmarshal(res.Body, &a); err != nil || a.OrderID == "" {
			failures["checkout answer without order_id"]++
			continue
		}
		placed = append(placed, a.OrderID)
	}
	for what, count := range failures {
		log.Printf("failed %d×: %s", count, what)
	}
	return placed, latencies, nil
}

type roundTripperFunc func(*http.Request) (*http.Response, error)

func (f roundTripperFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// settledOrder is an order that left pending.
type settledOrder struct {
	status    string
	reason    string
	createdAt time.Time
	settledAt time.Time
}

// settle waits until every shopper's orders have left pending, reading each
// shopper's own order history, and returns them.
func settle(ctx context.Context, o options, shoppers []shopper, accepted int) ([]settledOrder, error) {
	type order struct {
		ID        string    `json:"id"`
		Status    string    `json:"status"`
		Reason    string    `json:"reason"`
		CreatedAt time.Time `json:"created_at"`
		Timeline  []struct {
			Status string    `json:"status"`
			At     time.Time `json:"at"`
		} `json:"timeline"`
	}
	deadline := time.Now().Add(o.settle)
	for {
		var out []settledOrder
		pending := 0
		for _, s := range shoppers {
			var list struct {
				Items []order `json:"items"`
			}
			if err := doJSON(ctx, s.client, http.MethodGet, o.gateway+"/api/v1/orders", s.token, nil, &list, http.StatusOK); err != nil {
				return nil, err
			}
			for _, ord := range list.Items {
				if ord.Status == "pending" {
					pending++
					continue
				}
				so := settledOrder{status: ord.Status, reason: ord.Reason, createdAt: ord.CreatedAt}
				for _, e := range ord.Timeline {
					if e.Status == ord.Status {
						so.settledAt = e.At
					}
				}
				out = append(out, so)
			}
		}
		if pending == 0 {
			if len(out) != accepted {
				log.Printf("warning: %d orders in the shoppers' histories, %d checkouts accepted", len(out), accepted)
			}
			return out, nil
		}
		if time.Now().After(deadline) {
			return out, fmt.Errorf("%d orders still pending after %s", pending, o.settle)
		}
		time.Sleep(time.Second)
	}
}

func report(w io.Writer, o options, started time.Time, placed []string, settled []settledOrder, checkoutLatency []time.Duration) {
	confirmed := 0
	var latencies []time.Duration
	first, last := time.Time{}, time.Time{}
	reasons := map[string]int{}
	for _, s := range settled {
		if first.IsZero() || s.createdAt.Before(first) {
			first = s.createdAt
		}
		if s.status != "confirmed" {
			reasons[s.status+"/"+s.reason]++
			continue
		}
		confirmed++
		latencies = append(latencies, s.settledAt.Sub(s.createdAt))
		if s.settledAt.After(last) {
			last = s.settledAt
		}
	}
	fmt.Fprintf(w, "checkout load scenario: offered %.1f checkouts/s for %s (started %s)\n", o.rate, o.duration, started.UTC().Format(time.RFC3339))
	fmt.Fprintf(w, "  accepted checkouts (202): %d; checkout answer p50 %s, p99 %s\n", len(placed), percentile(checkoutLatency, 50), percentile(checkoutLatency, 99))
	fmt.Fprintf(w, "  confirmed: %d; other outcomes: %v\n", confirmed, reasons)
	if confirmed > 0 && last.After(first) {
		fmt.Fprintf(w, "  orders confirmed per second: %.1f (first placed → last confirmed: %s)\n", float64(confirmed)/last.Sub(first).Seconds(), last.Sub(first).Round(time.Millisecond))
	}
	fmt.Fprintf(w, "  placed → confirmed: p50 %s, p99 %s, max %s\n", percentile(latencies, 50), percentile(latencies, 99), percentile(latencies, 100))
}

func percentile(ds []time.Duration, p int) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	i := (len(s)*p + 99) / 100
	return s[min(max(i-1, 0), len(s)-1)].Round(time.Millisecond)
}
