package authz

// The gateway's access table: who may call what. This file is the one place
// to read it and to change it. Routes are matched on the method and the
// route pattern the handler is registered with (Gin's syntax); the first
// rule that matches wins, and a route that no rule matches is admin-only
// (a test checks that every served route has a rule).
//
// Pattern syntax: an exact route pattern ("/api/v1/products/:id"), or a
// prefix ending in "/**" that matches the path before it and everything
// below it ("/api/v1/orders/**" matches /api/v1/orders, /api/v1/orders/:id
// and /api/v1/orders/:id/cancel). Method "*" matches every method.

// Routes is the REST table.
var Routes = []Rule{
	// Accounts: signing up and in is for anyone; the account is its owner's.
	{"POST", "/api/v1/auth/register", Public},
	{"POST", "/api/v1/auth/login", Public},
	{"POST", "/api/v1/auth/refresh", Public},
	{"POST", "/api/v1/auth/logout", Public},
	{"GET", "/.well-known/jwks.json", Public},
	{"*", "/api/v1/me/**", Customer},

	// Catalog and search: reading is public, writing is for administrators,
	// and so is rebuilding the search index (before the public search rule).
	{"POST", "/api/v1/search/reindex", Admin},
	{"GET", "/api/v1/products/**", Public},
	{"GET", "/api/v1/categories/**", Public},
	{"GET", "/api/v1/search/**", Public},
	{"*", "/api/v1/products/**", Admin},
	{"*", "/api/v1/categories/**", Admin},

	// Shopping: a customer's own cart, checkout, orders and notifications.
	{"*", "/api/v1/cart/**", Customer},
	{"*", "/api/v1/checkout/**", Customer},
	{"*", "/api/v1/orders/**", Customer},
	{"*", "/api/v1/notifications/**", Customer},

	// Operations: stock, and whether and how often an order was charged.
	{"*", "/api/v1/inventory/**", Admin},
	{"*", "/api/v1/payments/**", Admin},

	// GraphQL: the endpoint is open; each field is checked (Fields below).
	{"GET", "/graphql", Public},
	{"POST", "/graphql", Public},
}

// Fields is the GraphQL table, by "Type.field". Every field of Query and
// Mutation must be listed (a field that is not is admin-only, and a test
// fails); fields of other types are open unless listed.
var Fields = map[string]Access{
	"Query.products":   Public,
	"Query.product":    Public,
	"Query.categories": Public,
	"Query.me":         Customer,

	"Query.search":            Public,
	"Query.cart":              Customer,
	"Query.orders":            Customer,
	"Query.order":             Customer,
	"Mutation.addToCart":      Customer,
	"Mutation.removeFromCart": Customer,
	"Mutation.checkout":       Customer,
	"Mutation.createProduct":  Admin,
	"Mutation.updateProduct":  Admin,
	"Mutation.deleteProduct":  Admin,
}
