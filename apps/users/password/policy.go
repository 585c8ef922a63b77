package password

import (
	_ "embed"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"
)

// Length bounds of a new password, in characters.
const (
	MinLength = 10
	MaxLength = 128
)

// ErrWeak is what every policy violation wraps.
var ErrWeak = errors.New("password: too weak")

// PolicyError says which rule a new password breaks; its message is safe to
// show the user (it never contains the password).
type PolicyError struct{ Reason string }

func (e *PolicyError) Error() string { return "password " + e.Reason }

// Is makes errors.Is(err, ErrWeak) true.
func (e *PolicyError) Is(target error) bool { return target == ErrWeak }

//go:embed common.txt
var commonTxt string

// common is the embedded list, lower case.
var common = func() map[string]struct{} {
	m := map[string]struct{}{}
	for _, line := range strings.Split(commonTxt, "\n") {
		line = strings.TrimSpace(line)
		if line != "" && !strings.HasPrefix(line, "#") {
			m[strings.ToLower(line)] = struct{}{}
		}
	}
	return m
}()

// IsCommon reports whether password is on the embedded list of common
// passwords, ignoring case.
func IsCommon(password string) bool {
	_, ok := common[strings.ToLower(password)]
	return ok
}

// Check applies the policy for new passwords: MinLength to MaxLength
// characters, not a common password, and not the account's e-mail.
func Check(password, email string) error {
	n := utf8.RuneCountInString(password)
	switch {
	case !utf8.ValidString(password):
		return &PolicyError{Reason: "must be valid UTF-8 text"}
	case n < MinLength:
		return &PolicyError{Reason: fmt.Sprintf("must have at least %d characters", MinLength)}
	case n > MaxLength:
		return &PolicyError{Reason: fmt.Sprintf("must have at most %d characters", MaxLength)}
	case IsCommon(password):
		return &PolicyError{Reason: "is too common; choose one that is harder to guess"}
	case email != "" && strings.EqualFold(strings.TrimSpace(password), strings.TrimSpace(email)):
		return &PolicyError{Reason: "must not be your e-mail address"}
	}
	return nil
}
