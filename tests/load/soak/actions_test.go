package main

import "testing"

// A product deleted since it was listed is viewed once, then forgotten:
// the first soak run kept viewing ids another test had deleted (29% of its
// views were 404s).
func TestSeenForgetsDeletedProducts(t *testing.T) {
	s := newSeen([]string{"a", "b", "c"})
	s.forget("b")
	s.forget("zz")
	for range 100 {
		if id := s.pick(); id == "b" {
			t.Fatal("a forgotten id was picked")
		}
	}
	s.forget("a")
	s.forget("c")
	if got := s.pick(); got != "c" && got != "a" {
		t.Fatalf("the last id must stay, got %q", got)
	}
}
