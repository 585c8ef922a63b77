package email

import (
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shopmesh/shopmesh/apps/notifications/notify"
)

// The bindings unquote the data (SES insists on it); the HTML must come out
// byte for byte, quotes, line breaks and non-ASCII included.
func TestRequestQuotesTheHTMLForBothBindings(t *testing.T) {
	html := "<!DOCTYPE html>\n<p class=\"x\">Zoë paid €12.50 \\ 100%</p>\n"
	req := Request(notify.Mail{To: "zoe@example.com", Subject: "Your order", HTML: html})
	assert.Equal(t, "email", req.Name)
	assert.Equal(t, "create", req.Operation)
	assert.Equal(t, map[string]string{"emailTo": "zoe@example.com", "subject": "Your order"}, req.Metadata)
	body, err := strconv.Unquote(string(req.Data))
	require.NoError(t, err)
	assert.Equal(t, html, body)
}
