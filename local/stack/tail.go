package stack

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"strings"
)

// TailLines returns the last n lines of a file, reading it from the end.
func TailLines(path string, n int) ([]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("tail: %w", err)
	}
	defer f.Close()
	size, err := f.Seek(0, io.SeekEnd)
	if err != nil {
		return nil, fmt.Errorf("tail %s: %w", path, err)
	}
	const chunk = 64 << 10
	var buf []byte
	pos := size
	for pos > 0 && bytes.Count(bytes.TrimRight(buf, "\n"), []byte{'\n'}) < n {
		step := int64(chunk)
		if pos < step {
			step = pos
		}
		pos -= step
		b := make([]byte, step)
		if _, err := f.ReadAt(b, pos); err != nil && err != io.EOF {
			return nil, fmt.Errorf("tail %s: %w", path, err)
		}
		buf = append(b, buf...)
	}
	text := strings.TrimRight(string(buf), "\n")
	if text == "" {
		return nil, nil
	}
	lines := strings.Split(text, "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return lines, nil
}
