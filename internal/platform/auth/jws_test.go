package auth

import "testing"

func TestCanonicalJWS(t *testing.T) {
	// "eyJ" ("{"), "e30" ("{}"), "AQ" (0x01): canonical; "AR" decodes to
	// 0x01 too, with a spare bit set.
	for token, want := range map[string]bool{
		"eyJhIjoxfQ.e30.AQ":    true,
		"eyJhIjoxfQ.e30.AR":    false, // spare bit
		"eyJhIjoxfQ.e30.AQ==":  false, // padding
		"eyJhIjoxfQ.e30.A+":    false, // standard alphabet
		"eyJhIjoxfQ.e30":       false, // two segments
		"eyJhIjoxfQ..AQ":       false, // empty payload
		"eyJhIjoxfQ.e30.AQ.AQ": false,
	} {
		if got := CanonicalJWS(token); got != want {
			t.Errorf("CanonicalJWS(%q) = %v, want %v", token, got, want)
		}
	}
}
