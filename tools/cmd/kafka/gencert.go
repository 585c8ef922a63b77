package main

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// The files gencert writes into its folder. The CA's private key is not
// kept: nothing else is ever signed with it.
const (
	caFile        = "ca.pem"
	serverFile    = "server.pem"
	serverKeyFile = "server-key.pem"
)

type gencertConfig struct {
	dir   string
	hosts []string
	valid time.Duration
	now   func() time.Time
}

const gencertUsage = `usage: kafka gencert -dir DIR [flags]

Writes DIR/ca.pem (a self-signed CA, the caCert of the pubsub.kafka
components), DIR/server.pem and DIR/server-key.pem (the broker's certificate
for -hosts, signed by that CA; for kafka serve -tls-cert/-tls-key). Does
nothing when the three files exist, chain together, cover -hosts and stay
valid for more than 30 days; otherwise writes all three anew.

Flags:
`

func parseGencert(args []string, stderr io.Writer) (gencertConfig, error) {
	cfg := gencertConfig{now: time.Now}
	fs := newFlagSet("gencert", gencertUsage, stderr)
	fs.StringVar(&cfg.dir, "dir", "", "folder for ca.pem, server.pem and server-key.pem")
	hosts := fs.String("hosts", "127.0.0.1,localhost", "comma-separated IP addresses and DNS names of the broker")
	days := fs.Int("days", 825, "validity of the certificates in days")
	if err := parseFlags(fs, args); err != nil {
		return cfg, err
	}
	for _, h := range strings.Split(*hosts, ",") {
		if h = strings.TrimSpace(h); h != "" {
			cfg.hosts = append(cfg.hosts, h)
		}
	}
	switch {
	case cfg.dir == "":
		return cfg, usageError(fs, errors.New("-dir is required"))
	case len(cfg.hosts) == 0:
		return cfg, usageError(fs, errors.New("-hosts is empty"))
	case *days < 31:
		return cfg, usageError(fs, errors.New("-days must be more than 30"))
	}
	cfg.valid = time.Duration(*days) * 24 * time.Hour
	return cfg, nil
}

// gencert makes sure cfg.dir holds a usable CA and server certificate.
func gencert(cfg gencertConfig, stderr io.Writer) error {
	if err := checkCerts(cfg); err == nil {
		fmt.Fprintf(stderr, "kafka gencert: certificates in %s are up to date\n", cfg.dir)
		return nil
	} else if !errors.Is(err, os.ErrNotExist) {
		fmt.Fprintf(stderr, "kafka gencert: renewing the certificates in %s: %v\n", cfg.dir, err)
	}
	if err := os.MkdirAll(cfg.dir, 0o700); err != nil {
		return fmt.Errorf("create %s: %w", cfg.dir, err)
	}
	caPEM, certPEM, keyPEM, err := newCerts(cfg)
	if err != nil {
		return err
	}
	// The key first and the CA last: checkCerts finds a half-written set
	// inconsistent and the next run writes it again.
	for _, f := range []struct {
		name string
		data []byte
		mode os.FileMode
	}{{serverKeyFile, keyPEM, 0o600}, {serverFile, certPEM, 0o644}, {caFile, caPEM, 0o644}} {
		if err := writeFileAtomic(filepath.Join(cfg.dir, f.name), f.data, f.mode); err != nil {
			return err
		}
	}
	fmt.Fprintf(stderr, "kafka gencert: wrote %s, %s and %s in %s for %s\n", caFile, serverFile, serverKeyFile, cfg.dir, strings.Join(cfg.hosts, ", "))
	return nil
}

// checkCerts returns nil when the files in cfg.dir can serve cfg.hosts for
// more than 30 days; an error wrapping os.ErrNotExist when a file is missing.
func checkCerts(cfg gencertConfig) error {
	caPEM, err := os.ReadFile(filepath.Join(cfg.dir, caFile))
	if err != nil {
		return err
	}
	certPEM, err := os.ReadFile(filepath.Join(cfg.dir, serverFile))
	if err != nil {
		return err
	}
	keyPEM, err := os.ReadFile(filepath.Join(cfg.dir, serverKeyFile))
	if err != nil {
		return err
	}
	roots := x509.NewCertPool()
	if !roots.AppendCertsFromPEM(caPEM) {
		return errors.New("no certificate in " + caFile)
	}
	block, _ := pem.Decode(certPEM)
	if block == nil {
		return errors.New("no certificate in " + serverFile)
	}
	cert, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		return fmt.Errorf("%s: %w", serverFile, err)
	}
	keyBlock, _ := pem.Decode(keyPEM)
	if keyBlock == nil {
		return errors.New("no key in " + serverKeyFile)
	}
	key, err := x509.ParsePKCS8PrivateKey(keyBlock.Bytes)
	if err != nil {
		return fmt.Errorf("%s: %w", serverKeyFile, err)
	}
	if priv, ok := key.(*ecdsa.PrivateKey); !ok || !priv.PublicKey.Equal(cert.PublicKey) {
		return errors.New(serverKeyFile + " does not belong to " + serverFile)
	}
	at := cfg.now().Add(30 * 24 * time.Hour)
	for _, h := range cfg.hosts {
		if _, err := cert.Verify(x509.VerifyOptions{DNSName: h, Roots: roots, CurrentTime: at}); err != nil {
			return fmt.Errorf("%s for %s in 30 days: %w", serverFile, h, err)
		}
	}
	return nil
}

// newCerts returns a new CA certificate and a server certificate and key
// it signed, all PEM.
func newCerts(cfg gencertConfig) (caPEM, certPEM, keyPEM []byte, err error) {
	now := cfg.now()
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("CA key: %w", err)
	}
	ca := &x509.Certificate{
		SerialNumber:          serial(),
		Subject:               pkix.Name{Organization: []string{"ShopMesh local"}, CommonName: "ShopMesh local Kafka CA"},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(cfg.valid),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
		BasicConstraintsValid: true,
		IsCA:                  true,
		MaxPathLenZero:        true,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, ca, ca, &caKey.PublicKey, caKey)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("CA certificate: %w", err)
	}
	if ca, err = x509.ParseCertificate(caDER); err != nil {
		return nil, nil, nil, fmt.Errorf("CA certificate: %w", err)
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("server key: %w", err)
	}
	leaf := &x509.Certificate{
		SerialNumber: serial(),
		Subject:      pkix.Name{Organization: []string{"ShopMesh local"}, CommonName: cfg.hosts[0]},
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.Add(cfg.valid),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	for _, h := range cfg.hosts {
		if ip := net.ParseIP(h); ip != nil {
			leaf.IPAddresses = append(leaf.IPAddresses, ip)
		} else {
			leaf.DNSNames = append(leaf.DNSNames, h)
		}
	}
	leafDER, err := x509.CreateCertificate(rand.Reader, leaf, ca, &key.PublicKey, caKey)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("server certificate: %w", err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("server key: %w", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER}),
		pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: leafDER}),
		pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}), nil
}

// serial is a random 128-bit certificate serial number.
func serial() *big.Int {
	n, _ := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 128))
	return n
}

// writeFileAtomic replaces path with data (mode perm) by a rename.
func writeFileAtomic(path string, data []byte, perm os.FileMode) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	defer os.Remove(tmp.Name())
	if _, err := io.Copy(tmp, bytes.NewReader(data)); err != nil {
		tmp.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := tmp.Chmod(perm); err != nil {
		tmp.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}
