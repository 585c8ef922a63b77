package web

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gin-gonic/gin"

	"github.com/shopmesh/shopmesh/apps/storefront/gateway"
	"github.com/shopmesh/shopmesh/apps/storefront/session"
)

// minPassword is the API's shortest password, checked here first so a
// short one costs no call against the sign-up rate limit.
const minPassword = 10

// authForm is the sign-in or sign-up form as the page shows it. The
// password is never sent back.
type authForm struct {
	Next        string
	Name, Email string
	Errors      map[string]string // per field
	Message     string            // about the whole form
	Notice      string
	SignInLink  bool // the e-mail has an account
	RetryAfter  int  // seconds until another try can succeed
}

func (f *authForm) fieldError(field, msg string) {
	if f.Errors == nil {
		f.Errors = map[string]string{}
	}
	f.Errors[field] = msg
}

var signInNotices = map[string]string{
	"registered": "Your account is ready. Sign in to continue.",
}

func (h *Handler) signInForm(c *gin.Context) {
	next := safeNext(c.Query("next"))
	if visitorOf(c).sess != nil {
		c.Redirect(http.StatusSeeOther, next)
		return
	}
	h.render(c, http.StatusOK, "signin", "Sign in", authForm{Next: next, Notice: signInNotices[c.Query("notice")]})
}

func (h *Handler) signIn(c *gin.Context) {
	email, password := strings.TrimSpace(c.PostForm("email")), c.PostForm("password")
	form := authForm{Next: safeNext(c.PostForm("next")), Email: email}
	if email == "" {
		form.fieldError("email", "Enter your e-mail address.")
	}
	if password == "" {
		form.fieldError("password", "Enter your password.")
	}
	if form.Errors != nil {
		h.render(c, http.StatusUnprocessableEntity, "signin", "Sign in", form)
		return
	}
	if err := h.startSession(c, email, password); err != nil {
		h.authFailed(c, "signin", "Sign in", form, err)
		return
	}
	c.Redirect(http.StatusSeeOther, form.Next)
}

func (h *Handler) signUpForm(c *gin.Context) {
	next := safeNext(c.Query("next"))
	if visitorOf(c).sess != nil {
		c.Redirect(http.StatusSeeOther, next)
		return
	}
	h.render(c, http.StatusOK, "signup", "Create an account", authForm{Next: next})
}

func (h *Handler) signUp(c *gin.Context) {
	name, email, password := strings.TrimSpace(c.PostForm("name")), strings.TrimSpace(c.PostForm("email")), c.PostForm("password")
	form := authForm{Next: safeNext(c.PostForm("next")), Name: name, Email: email}
	if name == "" {
		form.fieldError("name", "Enter your name.")
	}
	if email == "" || !strings.Contains(email, "@") {
		form.fieldError("email", "Enter a valid e-mail address, such as name@example.com.")
	}
	if utf8.RuneCountInString(password) < minPassword {
		form.fieldError("password", fmt.Sprintf("Choose a password of at least %d characters.", minPassword))
	}
	if form.Errors != nil {
		h.render(c, http.StatusUnprocessableEntity, "signup", "Create an account", form)
		return
	}
	if _, err := h.api.Register(c, email, password, name); err != nil {
		h.authFailed(c, "signup", "Create an account", form, err)
		return
	}
	if err := h.startSession(c, email, password); err != nil {
		// The account exists; signing in can be done by hand.
		h.log.WarnContext(c, "signing in after sign-up", "err", err)
		c.Redirect(http.StatusSeeOther, "/signin?notice=registered&next="+url.QueryEscape(form.Next))
		return
	}
	c.Redirect(http.StatusSeeOther, form.Next)
}

func (h *Handler) signOut(c *gin.Context) {
	v := visitorOf(c)
	v.cookies.Clear(c.Writer)
	c.Redirect(http.StatusSeeOther, "/")
}

// startSession signs in and keeps the token, who the shopper is and their
// roles in a new sealed session. The refresh token is not kept: a session
// ends with its access token.
func (h *Handler) startSession(c *gin.Context, email, password string) error {
	tok, err := h.api.Login(c, email, password)
	if err != nil {
		return err
	}
	if tok.AccessToken == "" || tok.ExpiresIn <= 0 {
		return errors.New("sign-in answered without a usable access token")
	}
	expires := h.now().Add(time.Duration(tok.ExpiresIn) * time.Second)
	me, err := h.api.Me(c, tok.AccessToken)
	if err != nil {
		return err
	}
	s, err := session.New(tok.AccessToken, expires, me.ID, me.Name, me.Email, me.Roles)
	if err != nil {
		return err
	}
	v := visitorOf(c)
	if err := v.cookies.Write(c.Writer, s); err != nil {
		return err
	}
	v.cookies.ClearPre(c.Writer)
	return nil
}

// authFailed shows the form again with what went wrong, in the shopper's terms.
func (h *Handler) authFailed(c *gin.Context, name, title string, form authForm, err error) {
	var ge *gateway.Error
	if !errors.As(err, &ge) {
		h.fail(c, err)
		return
	}
	status := http.StatusUnprocessableEntity
	switch ge.Status {
	case http.StatusUnauthorized:
		form.Message = "The e-mail address or the password is wrong."
	case http.StatusConflict:
		status = http.StatusConflict
		form.fieldError("email", "An account with this e-mail address already exists.")
		form.SignInLink = true
	case http.StatusBadRequest:
		for _, fe := range ge.Problem.Errors {
			switch fe.Field {
			case "email":
				form.fieldError("email", "Enter a valid e-mail address, such as name@example.com.")
			case "password":
				form.fieldError("password", "The password "+strings.TrimSuffix(fe.Detail, ".")+".")
			case "name":
				form.fieldError("name", "The name "+strings.TrimSuffix(fe.Detail, ".")+".")
			default:
				form.Message = sentence(fe.Field + " " + fe.Detail)
			}
		}
		if form.Errors == nil && form.Message == "" {
			form.Message = sentence(ge.Problem.Detail)
		}
	case http.StatusTooManyRequests, http.StatusServiceUnavailable:
		status = ge.Status
		form.RetryAfter = seconds(ge.RetryAfter)
		c.Header("Retry-After", fmt.Sprint(form.RetryAfter))
		wait := waitText(form.RetryAfter)
		switch {
		case ge.Status == http.StatusServiceUnavailable:
			form.Message = "The shop is busy right now. Please try again in " + wait + "."
		case strings.Contains(ge.Problem.Detail, "failed sign-in"):
			// The users service locks an account after repeated wrong
			// passwords; the API tells it from the rate limit by its detail.
			until := h.now().Add(time.Duration(form.RetryAfter) * time.Second)
			form.Message = "Too many wrong passwords were tried for this account, so it is locked for now. Try again in " +
				wait + " (after " + until.UTC().Format("15:04 MST") + ")."
		default:
			form.Message = "Too many attempts from your network. Please try again in " + wait + "."
		}
	default:
		h.fail(c, err)
		return
	}
	h.render(c, status, name, title, form)
}
