package stack

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"time"
)

// Followed is one log file a Follower watches, and the label its lines
// carry.
type Followed struct {
	Label string
	Path  string
}

// LogFiles lists the app and daprd log of each instance name, labelled
// "<name>" and "<name>-daprd".
func LogFiles(l Layout, names []string) []Followed {
	var fs []Followed
	for _, n := range names {
		fs = append(fs, Followed{n, l.LogFile(n, RoleApp)}, Followed{n + "-daprd", l.LogFile(n, RoleDaprd)})
	}
	return fs
}

// Follower writes the lines appended to log files after it was made,
// merged as they come, each prefixed with its file's label.
type Follower struct {
	tails []tail
}

// NewFollower starts following files from their current ends; colour
// colours the labels. A file that does not exist yet is picked up when it
// appears, and one that shrinks (a fresh start) is read from its beginning.
func NewFollower(files []Followed, colour bool) *Follower {
	width := 0
	for _, f := range files {
		width = max(width, len(f.Label))
	}
	fw := &Follower{tails: make([]tail, len(files))}
	for i, f := range files {
		fw.tails[i] = tail{Followed: f, prefix: prefix(f.Label, width, i, colour)}
		if st, err := os.Stat(f.Path); err == nil {
			fw.tails[i].offset = st.Size()
		}
	}
	return fw
}

// Run copies new lines to out every poll until ctx ends.
func (fw *Follower) Run(ctx context.Context, out io.Writer, poll time.Duration) error {
	t := time.NewTicker(poll)
	defer t.Stop()
	for {
		for i := range fw.tails {
			if err := fw.tails[i].copyNew(out); err != nil {
				return err
			}
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

// tail is one followed file: how far it was read, and an unfinished last
// line kept until its newline arrives.
type tail struct {
	Followed
	prefix  string
	offset  int64
	partial []byte
}

func (t *tail) copyNew(out io.Writer) error {
	f, err := os.Open(t.Path)
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("follow %s: %w", t.Path, err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return fmt.Errorf("follow %s: %w", t.Path, err)
	}
	if st.Size() < t.offset {
		t.offset, t.partial = 0, nil
	}
	if st.Size() == t.offset {
		return nil
	}
	data := make([]byte, st.Size()-t.offset)
	n, err := f.ReadAt(data, t.offset)
	if err != nil && err != io.EOF {
		return fmt.Errorf("follow %s: %w", t.Path, err)
	}
	t.offset += int64(n)
	data = append(t.partial, data[:n]...)
	last := bytes.LastIndexByte(data, '\n')
	t.partial = append([]byte(nil), data[last+1:]...)
	if last < 0 {
		return nil
	}
	for line := range bytes.SplitSeq(data[:last], []byte{'\n'}) {
		if _, err := fmt.Fprintf(out, "%s%s\n", t.prefix, line); err != nil {
			return err
		}
	}
	return nil
}

// prefix is "label | " padded to width, in one of six colours by index.
func prefix(label string, width, i int, colour bool) string {
	p := fmt.Sprintf("%-*s | ", width, label)
	if !colour {
		return p
	}
	return fmt.Sprintf("\x1b[%dm%s\x1b[0m", 31+i%6, p)
}

// IsTerminal reports whether out is a terminal (a character device), where
// colour helps rather than litters.
func IsTerminal(out io.Writer) bool {
	f, ok := out.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}
