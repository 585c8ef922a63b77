package contracts

import "time"

// Access tokens: who issues them and for whom. The users service signs with
// these values and the gateway requires them (both overridable by config,
// e.g. with Cognito's issuer on AWS).
const (
	TokenIssuer   = "shopmesh-users"
	TokenAudience = "shopmesh-api"
)

// CloudEvent types on TopicUsers.
const (
	UserRegistered = "user.registered"
)

// UserEvent is the data of user.* events. It never holds credentials.
type UserEvent struct {
	ID           string    `json:"id"`
	Email        string    `json:"email"`
	Name         string    `json:"name"`
	RegisteredAt time.Time `json:"registered_at"`
}
