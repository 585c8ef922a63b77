package contracts

// App ids, as in dapr/dapr.yaml (a test keeps the two in step).
const (
	AppGateway       = "gateway"
	AppUsers         = "users"
	AppCatalog       = "catalog"
	AppInventory     = "inventory"
	AppOrders        = "orders"
	AppPayments      = "payments"
	AppNotifications = "notifications"
	AppSearch        = "search"
	AppStorefront    = "storefront"
)

// Dapr component names. Code knows only these; a profile folder under
// components/ decides what backs them.
const (
	PubSub             = "pubsub"
	SecretStore        = "secretstore"
	CatalogStore       = "catalog-store"
	UsersStore         = "users-store"
	CartStore          = "cart-store"
	OrdersStore        = "orders-store"
	InventoryStore     = "inventory-store"
	PaymentsStore      = "payments-store"
	NotificationsStore = "notifications-store"
	// EmailBinding is the output binding that sends e-mail (SMTP locally, SES on AWS).
	EmailBinding = "email"
	// ReservationSweep is the cron input binding that makes inventory release
	// reservations whose order never finished. Dapr POSTs to /<name> on the app.
	ReservationSweep = "reservation-sweep"
)

// Secret names in SecretStore that an app reads at start (keys of
// .local/secrets.json locally, secret names in the AWS profile's store).
const (
	// StorefrontSessionKey seals the storefront's session cookies: 64 hex
	// characters, 32 random bytes for AES-256-GCM.
	StorefrontSessionKey = "storefront-session-key"
)

// Topics, one per aggregate. Every subscription dead-letters to DeadLetter(topic).
const (
	TopicCatalog   = "catalog"
	TopicUsers     = "users"
	TopicOrders    = "orders"
	TopicInventory = "inventory"
	TopicPayments  = "payments"
)

// DeadLetter names the topic that receives a topic's poison messages.
func DeadLetter(topic string) string { return topic + "-deadletter" }
