// Package email sends notify.Mail through the Dapr output binding
// contracts.EmailBinding: bindings.smtp locally (mailpit), bindings.aws.ses
// on AWS. The component sets the sender (emailFrom); each request sets the
// recipient and the subject.
package email

import (
	"context"
	"fmt"
	"strconv"

	dapr "github.com/dapr/go-sdk/client"
	"go.uber.org/fx"

	"github.com/shopmesh/shopmesh/apps/notifications/notify"
	"github.com/shopmesh/shopmesh/internal/contracts"
)

// Module provides the binding as notify.Mailer.
var Module = fx.Provide(fx.Annotate(New, fx.As(new(notify.Mailer))))

// Binding implements notify.Mailer.
type Binding struct{ client dapr.Client }

// New returns the mailer on contracts.EmailBinding.
func New(c dapr.Client) *Binding { return &Binding{client: c} }

// Request builds the binding request for m. Both bindings (components-contrib
// v1.17.3 bindings/smtp and bindings/aws/ses) read the request
// metadata keys emailTo and subject, split emailTo at ';', and send the
// data as the one text/html body after strconv.Unquote: SES fails on data
// that is not a quoted string, SMTP unquotes when it can. So the HTML goes
// quoted, and no plain-text part can be sent through them.
func Request(m notify.Mail) *dapr.InvokeBindingRequest {
	return &dapr.InvokeBindingRequest{
		Name:      contracts.EmailBinding,
		Operation: "create",
		Data:      []byte(strconv.Quote(m.HTML)),
		Metadata:  map[string]string{"emailTo": m.To, "subject": m.Subject},
	}
}

// Send implements notify.Mailer.
func (b *Binding) Send(ctx context.Context, m notify.Mail) error {
	if err := b.client.InvokeOutputBinding(ctx, Request(m)); err != nil {
		return fmt.Errorf("sending through binding %s: %w", contracts.EmailBinding, err)
	}
	return nil
}
