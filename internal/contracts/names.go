package contracts

// App ids, as in dapr/dapr.yaml (a test keeps the two in step).
const (
	AppGateway = "gateway"
	AppUsers   = "users"
	AppCatalog = "catalog"
)

// Dapr component names. Code knows only these; a profile folder under
// components/ decides what backs them.
const (
	PubSub       = "pubsub"
	SecretStore  = "secretstore"
	CatalogStore = "catalog-store"
	UsersStore   = "users-store"
)

// Topics, one per aggregate. Every subscription dead-letters to DeadLetter(topic).
const (
	TopicCatalog = "catalog"
	TopicUsers   = "users"
)

// DeadLetter names the topic that receives a topic's poison messages.
func DeadLetter(topic string) string { return topic + "-deadletter" }
