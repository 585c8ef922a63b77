package shop

import (
	"math"
	"slices"
	"time"
)

// Summary sums up the outcomes of a run's orders.
type Summary struct {
	Accepted  int
	Confirmed int
	Cancelled int
	Pending   int            // not settled when the wait ended
	Reasons   map[string]int // cancelled orders by reason
	// PlacedToConfirmed holds each confirmed order's time from created_at
	// to its confirmed timeline entry, sorted.
	PlacedToConfirmed []time.Duration
	FirstPlaced       time.Time
	LastConfirmed     time.Time
}

// Summarize sums up outcomes.
func Summarize(outcomes []Outcome) Summary {
	s := Summary{Accepted: len(outcomes), Reasons: map[string]int{}}
	for _, o := range outcomes {
		if !o.CreatedAt.IsZero() && (s.FirstPlaced.IsZero() || o.CreatedAt.Before(s.FirstPlaced)) {
			s.FirstPlaced = o.CreatedAt
		}
		switch o.Status {
		case StatusConfirmed:
			s.Confirmed++
			s.PlacedToConfirmed = append(s.PlacedToConfirmed, o.SettledAt.Sub(o.CreatedAt))
			if o.SettledAt.After(s.LastConfirmed) {
				s.LastConfirmed = o.SettledAt
			}
		case StatusCancelled:
			s.Cancelled++
			s.Reasons[o.Reason]++
		default:
			s.Pending++
		}
	}
	slices.Sort(s.PlacedToConfirmed)
	return s
}

// ConfirmedPerSecond is the confirmed orders over the time from the first
// order placed to the last confirmed, by the shop's own clock; 0 when
// that is no time at all.
func (s Summary) ConfirmedPerSecond() float64 {
	span := s.LastConfirmed.Sub(s.FirstPlaced)
	if s.Confirmed == 0 || span <= 0 {
		return 0
	}
	return float64(s.Confirmed) / span.Seconds()
}

// Percentile returns the nearest-rank p-th percentile (0 < p <= 100) of
// ds, which need not be sorted; 0 for none.
func Percentile(ds []time.Duration, p float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := ds
	if !slices.IsSorted(s) {
		s = slices.Clone(ds)
		slices.Sort(s)
	}
	rank := int(math.Ceil(p / 100 * float64(len(s))))
	return s[min(max(rank, 1), len(s))-1]
}
