package shop

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"
)

// Load is one paced run: shoppers add one unit of a product to their cart
// and check out, Rate checkouts per second for Duration. Checkouts and
// add-to-carts alternate, so twice as many requests go out.
type Load struct {
	Gateway  string
	Rate     float64
	Duration time.Duration
	// Products are what the shoppers buy: each always the same one of
	// them (ProductFor). One product is a flash sale, where every order
	// contends for one stock record; several spread the orders.
	Products []string
	// Shoppers take turns; a shopper has at most one request in flight,
	// since a cart is one per customer and an add racing a checkout would
	// change what the order holds. Half of them wait to check out, half
	// to add, so Rate × 10 s shoppers make a request every 5 s each.
	Shoppers []*Shopper
}

// Placed is an accepted checkout.
type Placed struct {
	OrderID string
	Shopper *Shopper
}

// RunResult is what a run's requests were answered.
type RunResult struct {
	Placed            []Placed        // checkouts answered 2xx with an order id
	CheckoutLatencies []time.Duration // of the accepted checkouts
	Requests          int             // add-to-cart and checkout requests, skipped ones included
	Codes             map[int]int     // answers by HTTP status; 0 counts requests without an answer
	Skipped           int             // requests not sent since no shopper was ready for them
	Failures          map[string]int  // what the non-2xx answers and errors were, for the log
}

// ServerErrors counts the 5xx answers but 503, the platform's shedding.
func (r RunResult) ServerErrors() int {
	return r.count(func(c int) bool { return c >= 500 && c != http.StatusServiceUnavailable })
}

// Shed counts the requests the platform refused for load, asking to come
// back later: 503 (admission control, a saga running late, a service
// unreachable) and 429 (a client's rate limit).
func (r RunResult) Shed() int {
	return r.count(func(c int) bool { return c == http.StatusServiceUnavailable || c == http.StatusTooManyRequests })
}

// OtherErrors counts the answers that are neither 2xx, 5xx nor 429 (409…).
func (r RunResult) OtherErrors() int {
	return r.count(func(c int) bool {
		return c != 0 && (c < 200 || c >= 300) && c < 500 && c != http.StatusTooManyRequests
	})
}

// NoAnswer counts requests that got no HTTP answer: timeouts, connection
// errors, and requests skipped since no shopper was ready.
func (r RunResult) NoAnswer() int { return r.count(func(c int) bool { return c == 0 }) }

func (r RunResult) count(match func(int) bool) int {
	n := 0
	for c, k := range r.Codes {
		if match(c) {
			n += k
		}
	}
	return n
}

// errNotReady fails a request for which no shopper was ready: all that
// could make it had a request in flight.
var errNotReady = errors.New("no shopper ready: all that could make this request had one in flight")

// shopperHeader carries a request's shopper from the targeter to the
// transport (stripped before sending); -1 means none was ready.
const shopperHeader = "X-Load-Shopper"

// Prepare fills the carts of half the load's shoppers (counting those
// already full), so that a run can alternate checkouts and add-to-carts
// from its first request and offer Rate checkouts per second from its
// first second. Run prepares what is not; call Prepare before a
// measurement to keep this set-up out of it.
func Prepare(ctx context.Context, l Load) error {
	full := 0
	var empty []*Shopper
	for _, s := range l.Shoppers {
		if s.cart == cartEmpty {
			empty = append(empty, s)
		} else {
			full++
		}
	}
	fill := empty[:min(max(len(l.Shoppers)/2-full, 0), len(empty))]
	return forEach(ctx, prepareWorkers, fill, func(ctx context.Context, s *Shopper) error {
		body := map[string]any{"product_id": ProductFor(s, l.Products), "quantity": 1}
		if err := callSetup(ctx, s.client, http.MethodPost, l.Gateway+"/api/v1/cart/items", s.token, body, nil, http.StatusOK); err != nil {
			return fmt.Errorf("filling a cart: %w", err)
		}
		s.cart = cartFull
		return nil
	})
}

// prepareWorkers is how many carts Prepare fills at once.
const prepareWorkers = 16

// Run paces the Load's requests with vegeta and returns their answers once
// the last one is in. Cancelling ctx stops it early.
func Run(ctx context.Context, l Load) (RunResult, error) {
	if l.Rate <= 0 || l.Duration <= 0 || len(l.Shoppers) < 2 {
		return RunResult{}, errors.New("run: rate and duration must be positive, and shoppers at least two")
	}
	if err := Prepare(ctx, l); err != nil {
		return RunResult{}, err
	}
	d, err := newDriver(l)
	if err != nil {
		return RunResult{}, err
	}
	attacker := vegeta.NewAttacker(
		vegeta.Client(&http.Client{Timeout: requestTimeout, Transport: d}),
		vegeta.MaxBody(512),
	)
	stopped := make(chan struct{})
	defer close(stopped)
	go func() {
		select {
		case <-ctx.Done():
			attacker.Stop()
		case <-stopped:
		}
	}()

	pacer := vegeta.ConstantPacer{Freq: int(l.Rate * 2 * 1000), Per: 1000 * time.Second}
	res := RunResult{Codes: map[int]int{}, Failures: map[string]int{}}
	for r := range attacker.Attack(d.target, pacer, l.Duration, "checkout") {
		res.Requests++
		res.Codes[int(r.Code)]++
		if r.Code < 200 || r.Code >= 300 {
			noteFailure(res.Failures, r)
			continue
		}
		if strings.HasSuffix(r.URL, "/checkout") {
			res.CheckoutLatencies = append(res.CheckoutLatencies, r.Latency)
		}
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	res.Placed, res.Skipped = d.placed, d.skipped
	if d.noOrderID > 0 {
		res.Failures["checkout answered 2xx without an order_id"] += d.noOrderID
	}
	return res, ctx.Err()
}

// maxFailureKinds caps the distinct failures kept: error texts can hold
// addresses and would otherwise each count once.
const maxFailureKinds = 20

func noteFailure(failures map[string]int, r *vegeta.Result) {
	path := r.URL
	if i := strings.Index(path, "/api/"); i >= 0 {
		path = path[i:]
	}
	var what string
	if r.Code == 0 {
		what = fmt.Sprintf("%s %s: %s", r.Method, path, r.Error)
	} else {
		var p struct {
			Type string `json:"type"`
		}
		_ = json.Unmarshal(r.Body, &p) // problem+json when it can; the status alone otherwise
		what = strings.TrimSpace(fmt.Sprintf("%s %s: %d %s", r.Method, path, r.Code, p.Type))
	}
	if _, ok := failures[what]; !ok && len(failures) >= maxFailureKinds {
		what = "other failures"
	}
	failures[what]++
}

// Request kinds, which the driver alternates.
const (
	doCheckout = iota
	doAdd
)

// driver picks each request's shopper and sends it from that shopper's
// address. Shoppers wait in two queues, by the request they are ready
// for; a shopper whose request is answered goes to the back of one, so a
// shopper's requests are as far apart as the rate allows.
type driver struct {
	byID          map[int]*Shopper
	ready         [2]chan *Shopper // by request kind
	ticks         atomic.Uint64
	addURL, coURL string
	addBodies     [][]byte // one per product
	coBody        []byte
	run           string

	mu        sync.Mutex // guards the fields below
	placed    []Placed
	noOrderID int
	skipped   int
}

func newDriver(l Load) (*driver, error) {
	if len(l.Products) == 0 {
		return nil, errors.New("run: no products to buy")
	}
	addBodies := make([][]byte, len(l.Products))
	for i, id := range l.Products {
		b, err := json.Marshal(map[string]any{"product_id": id, "quantity": 1})
		if err != nil {
			return nil, fmt.Errorf("run: %w", err)
		}
		addBodies[i] = b
	}
	coBody, err := json.Marshal(map[string]any{
		"shipping_address": map[string]any{"name": "Load Shopper", "line1": "1 Load Street", "city": "Lisbon", "postal_code": "1000-001", "country": "PT"},
		"payment_token":    "tok_visa",
	})
	if err != nil {
		return nil, fmt.Errorf("run: %w", err)
	}
	d := &driver{
		byID:   make(map[int]*Shopper, len(l.Shoppers)),
		addURL: l.Gateway + "/api/v1/cart/items", coURL: l.Gateway + "/api/v1/checkout",
		addBodies: addBodies, coBody: coBody, run: strconv.FormatInt(time.Now().UnixNano(), 36),
	}
	for kind := range d.ready {
		d.ready[kind] = make(chan *Shopper, len(l.Shoppers))
	}
	for _, s := range l.Shoppers {
		d.byID[s.id] = s
		d.ready[readyFor(s.cart)] <- s
	}
	return d, nil
}

// target is the vegeta.Targeter: checkouts and add-to-carts alternate. It
// never fails, since a targeter's error would stop the whole attack.
func (d *driver) target(t *vegeta.Target) error {
	kind := int((d.ticks.Add(1) - 1) % 2)
	url := d.coURL
	if kind == doAdd {
		url = d.addURL
	}
	var s *Shopper
	select {
	case s = <-d.ready[kind]:
	default:
		// Sent to the transport anyway, which fails it at once: the tick
		// counts as offered and not answered.
		t.Method, t.URL, t.Header = http.MethodPost, url, http.Header{shopperHeader: {"-1"}}
		return nil
	}
	body := d.coBody
	if kind == doAdd {
		body = d.addBodies[s.id%len(d.addBodies)]
	}
	t.Method, t.URL, t.Body = http.MethodPost, url, body
	t.Header = http.Header{
		"Authorization": {"Bearer " + s.token},
		"Content-Type":  {"application/json"},
		shopperHeader:   {strconv.Itoa(s.id)},
	}
	if kind == doCheckout {
		s.checkout++
		t.Header.Set("Idempotency-Key", fmt.Sprintf("load-%s-%d-%d", d.run, s.id, s.checkout))
	}
	return nil
}

// RoundTrip sends a request from its shopper's address, notes what the
// answer means for the shopper's cart and queues the shopper for its next
// request.
func (d *driver) RoundTrip(r *http.Request) (*http.Response, error) {
	s := d.shopper(r.Header.Get(shopperHeader))
	if s == nil {
		d.mu.Lock()
		d.skipped++
		d.mu.Unlock()
		return nil, errNotReady
	}
	// Never blocks: each queue can hold every shopper, and holds each at
	// most once.
	defer func() { d.ready[readyFor(s.cart)] <- s }()

	r = r.Clone(r.Context()) // a RoundTripper must not change its request
	r.Header.Del(shopperHeader)
	resp, err := s.client.Transport.RoundTrip(r)
	code := 0
	if err == nil {
		code = resp.StatusCode
	}
	isCheckout := strings.HasSuffix(r.URL.Path, "/checkout")
	if isCheckout && code >= 200 && code < 300 {
		// Read the order id here, where the shopper is known.
		data, rerr := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
		resp.Body.Close()
		resp.Body = io.NopCloser(bytes.NewReader(data))
		var a struct {
			OrderID string `json:"order_id"`
		}
		d.mu.Lock()
		if rerr != nil || json.Unmarshal(data, &a) != nil || a.OrderID == "" {
			d.noOrderID++
		} else {
			d.placed = append(d.placed, Placed{OrderID: a.OrderID, Shopper: s})
		}
		d.mu.Unlock()
	}
	s.cart = nextCart(s.cart, isCheckout, code)
	return resp, err
}

func (d *driver) shopper(header string) *Shopper {
	id, err := strconv.Atoi(header)
	if err != nil {
		return nil
	}
	return d.byID[id] // nil for -1: no shopper was ready
}

// readyFor is the request a shopper whose cart is cart makes next. A cart
// that may be full is checked out: a 400 says it was empty.
func readyFor(cart cartState) int {
	if cart == cartEmpty {
		return doAdd
	}
	return doCheckout
}

// nextCart is what a shopper's cart holds after a request's answer (code
// 0: none). A failed checkout leaves the unit in the cart, to be checked
// out next time; a 400 to a checkout is most likely the empty cart of a
// checkout that went through unanswered.
func nextCart(cart cartState, checkout bool, code int) cartState {
	switch {
	case code == 0:
		return cartUnknown
	case !checkout && code == http.StatusOK:
		return cartFull
	case !checkout:
		return cart
	case code >= 200 && code < 300, code == http.StatusBadRequest:
		return cartEmpty
	default:
		return cartFull
	}
}

// ProductFor is the product s buys.
func ProductFor(s *Shopper, products []string) string { return products[s.id%len(products)] }
