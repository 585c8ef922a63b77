package main

import (
	"crypto/tls"
	"encoding/binary"
	"fmt"
	"net"
	"sync"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// kfake answers an OffsetFetch for a partition without a committed offset
// with a null metadata string. Kafka answers "" (OffsetFetchResponse's
// NO_METADATA), and sarama (in Dapr's pubsub.kafka) reads the field of the
// flexible versions (6+, which it sends for Kafka >= 2.4) as a non-nullable
// compact string: a null fails the whole response with "kafka: error
// decoding packet: invalid byteslice length" and no consumer group ever
// starts. compatListener sits between the socket (and TLS) and kfake and
// rewrites those nulls to "" in OffsetFetch responses; every other byte
// passes unchanged.

// compatListener wraps accepted connections in compatConn, after the TLS
// handshake when tlsConfig is set (so kfake sees plaintext Kafka frames).
type compatListener struct {
	net.Listener
	tlsConfig *tls.Config
}

func (l compatListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	if l.tlsConfig != nil {
		c = tls.Server(c, l.tlsConfig)
	}
	return &compatConn{Conn: c, offsetFetches: make(map[int32]int16)}, nil
}

// compatConn notes the correlation id and version of every OffsetFetch
// request read from the client and patches the matching response kfake
// writes. kfake reads requests as a byte stream and writes each response
// with one Write of the whole frame.
type compatConn struct {
	net.Conn
	scan requestScanner

	mu            sync.Mutex
	offsetFetches map[int32]int16 // correlation id → request version
}

const offsetFetchKey = 9

func (c *compatConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	c.scan.feed(p[:n], func(key, version int16, corr int32) {
		if key == offsetFetchKey {
			c.mu.Lock()
			c.offsetFetches[corr] = version
			c.mu.Unlock()
		}
	})
	return n, err
}

func (c *compatConn) Write(p []byte) (int, error) {
	if len(p) < 8 {
		return c.Conn.Write(p)
	}
	corr := int32(binary.BigEndian.Uint32(p[4:8]))
	c.mu.Lock()
	version, ok := c.offsetFetches[corr]
	delete(c.offsetFetches, corr)
	c.mu.Unlock()
	if !ok {
		return c.Conn.Write(p)
	}
	patched, err := patchOffsetFetch(p, version)
	if err != nil {
		return 0, err
	}
	if _, err := c.Conn.Write(patched); err != nil {
		return 0, err
	}
	return len(p), nil
}

// requestScanner follows the request frames of a byte stream (int32 size,
// then int16 api key, int16 version, int32 correlation id, ...) without
// keeping their bodies.
type requestScanner struct {
	hdr  [12]byte
	nhdr int
	skip int64 // bytes of the current frame still to pass over
}

func (s *requestScanner) feed(p []byte, onHeader func(key, version int16, corr int32)) {
	for len(p) > 0 {
		if s.skip > 0 {
			n := int64(len(p))
			if n > s.skip {
				n = s.skip
			}
			p, s.skip = p[n:], s.skip-n
			continue
		}
		n := copy(s.hdr[s.nhdr:], p)
		p, s.nhdr = p[n:], s.nhdr+n
		if s.nhdr < len(s.hdr) {
			return
		}
		size := int64(int32(binary.BigEndian.Uint32(s.hdr[0:4])))
		onHeader(int16(binary.BigEndian.Uint16(s.hdr[4:6])), int16(binary.BigEndian.Uint16(s.hdr[6:8])),
			int32(binary.BigEndian.Uint32(s.hdr[8:12])))
		s.nhdr, s.skip = 0, max(size-8, 0)
	}
}

// patchOffsetFetch returns the response frame with every null partition
// metadata replaced by "".
func patchOffsetFetch(frame []byte, version int16) ([]byte, error) {
	resp := kmsg.NewPtrOffsetFetchResponse()
	resp.Version = version
	head := 8 // size, correlation id
	if resp.IsFlexible() {
		head++ // the (empty) tagged fields of the response header
	}
	if len(frame) < head {
		return nil, fmt.Errorf("offset fetch response of %d bytes", len(frame))
	}
	if err := resp.ReadFrom(frame[head:]); err != nil {
		return nil, fmt.Errorf("decode offset fetch response v%d: %w", version, err)
	}
	empty := ""
	changed := false
	fix := func(m **string) {
		if *m == nil {
			*m, changed = &empty, true
		}
	}
	for i := range resp.Topics {
		for j := range resp.Topics[i].Partitions {
			fix(&resp.Topics[i].Partitions[j].Metadata)
		}
	}
	for g := range resp.Groups {
		for i := range resp.Groups[g].Topics {
			for j := range resp.Groups[g].Topics[i].Partitions {
				fix(&resp.Groups[g].Topics[i].Partitions[j].Metadata)
			}
		}
	}
	if !changed {
		return frame, nil
	}
	out := resp.AppendTo(append([]byte(nil), frame[:head]...))
	binary.BigEndian.PutUint32(out[0:4], uint32(len(out)-4))
	return out, nil
}
