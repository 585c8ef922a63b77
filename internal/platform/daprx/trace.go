package daprx

import (
	"crypto/rand"
	"encoding/hex"
)

// spanID returns a random W3C span id for an outgoing call.
func spanID() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
