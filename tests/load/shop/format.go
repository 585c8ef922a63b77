package shop

import (
	"fmt"
	"time"
)

// FormatLatency formats a percentile taken over n samples, "-" when it is
// over nothing.
func FormatLatency(d time.Duration, n int) string {
	if n == 0 {
		return "-"
	}
	return FormatDuration(d)
}

// FormatDuration formats d in 7 characters or fewer, for tables: 12ms,
// 1.52s, 35.0s, 412s.
func FormatDuration(d time.Duration) string {
	switch {
	case d < time.Second:
		return fmt.Sprintf("%dms", d.Round(time.Millisecond).Milliseconds())
	case d < 10*time.Second:
		return fmt.Sprintf("%.2fs", d.Seconds())
	case d < 100*time.Second:
		return fmt.Sprintf("%.1fs", d.Seconds())
	default:
		return fmt.Sprintf("%.0fs", d.Seconds())
	}
}
