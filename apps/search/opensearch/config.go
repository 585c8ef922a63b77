package opensearch

import (
	"context"
	"errors"
	"fmt"
	"regexp"

	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/opensearch-project/opensearch-go/v4"
	"github.com/opensearch-project/opensearch-go/v4/signer/awsv2"

	"github.com/shopmesh/shopmesh/internal/platform/config"
)

// Authentication modes.
const (
	AuthNone  = "none"
	AuthBasic = "basic"
	AuthSigV4 = "sigv4" // Amazon OpenSearch Service with the pod's IAM role
)

// Config locates the cluster and names the alias search serves from.
type Config struct {
	URLs     []string
	Alias    string
	Auth     string
	Username string
	Password string
	// Region and Service sign requests for AuthSigV4 ("es" for a domain,
	// "aoss" for OpenSearch Serverless).
	Region             string
	Service            string
	InsecureSkipVerify bool
	// Shards and Replicas of each new index; Replicas < 0 keeps the
	// cluster's default.
	Shards   int
	Replicas int
}

var aliasPattern = regexp.MustCompile(`^[a-z0-9][a-z0-9_.-]{0,99}$`)

// LoadConfig reads OPENSEARCH_URL (comma-separated), OPENSEARCH_INDEX (the
// alias; default products), OPENSEARCH_AUTH (none, basic or sigv4; basic
// when OPENSEARCH_USERNAME is set), OPENSEARCH_USERNAME,
// OPENSEARCH_PASSWORD, OPENSEARCH_REGION (else AWS_REGION),
// OPENSEARCH_SIGV4_SERVICE (default es), OPENSEARCH_INSECURE_SKIP_VERIFY,
// OPENSEARCH_SHARDS (default 1) and OPENSEARCH_REPLICAS (default: the
// cluster's).
func LoadConfig(lookup func(string) (string, bool)) (Config, error) {
	l := config.NewLoader(lookup)
	cfg := Config{
		Alias:              l.String("OPENSEARCH_INDEX", "products"),
		Username:           l.String("OPENSEARCH_USERNAME", ""),
		Password:           l.String("OPENSEARCH_PASSWORD", ""),
		Region:             l.String("OPENSEARCH_REGION", l.String("AWS_REGION", "")),
		Service:            l.String("OPENSEARCH_SIGV4_SERVICE", "es"),
		InsecureSkipVerify: l.Bool("OPENSEARCH_INSECURE_SKIP_VERIFY", false),
		Shards:             l.Int("OPENSEARCH_SHARDS", 1),
		Replicas:           l.Int("OPENSEARCH_REPLICAS", -1),
	}
	cfg.URLs = l.List("OPENSEARCH_URL")
	defAuth := AuthNone
	if cfg.Username != "" {
		defAuth = AuthBasic
	}
	cfg.Auth = l.String("OPENSEARCH_AUTH", defAuth)
	errs := []error{l.Err()}
	if len(cfg.URLs) == 0 {
		errs = append(errs, errors.New("config OPENSEARCH_URL: must be set when SEARCH_BACKEND=opensearch"))
	}
	if !aliasPattern.MatchString(cfg.Alias) {
		errs = append(errs, fmt.Errorf("config OPENSEARCH_INDEX: %q is not a valid index alias (lower case letters, digits, '_', '.', '-')", cfg.Alias))
	}
	switch cfg.Auth {
	case AuthNone:
	case AuthBasic:
		if cfg.Username == "" || cfg.Password == "" {
			errs = append(errs, errors.New("config OPENSEARCH_AUTH=basic: OPENSEARCH_USERNAME and OPENSEARCH_PASSWORD must be set"))
		}
	case AuthSigV4:
		if cfg.Region == "" {
			errs = append(errs, errors.New("config OPENSEARCH_AUTH=sigv4: OPENSEARCH_REGION or AWS_REGION must be set"))
		}
	default:
		errs = append(errs, fmt.Errorf("config OPENSEARCH_AUTH: %q is not none, basic or sigv4", cfg.Auth))
	}
	if cfg.Shards < 1 {
		errs = append(errs, errors.New("config OPENSEARCH_SHARDS: must be at least 1"))
	}
	return cfg, errors.Join(errs...)
}

// client builds the OpenSearch client: retries on 502/503/504, basic auth
// or SigV4 signing with the default AWS credential chain (IRSA on EKS).
func (cfg Config) client(ctx context.Context) (*opensearch.Client, error) {
	oc := opensearch.Config{
		Addresses:          cfg.URLs,
		InsecureSkipVerify: cfg.InsecureSkipVerify,
		MaxRetries:         3,
	}
	switch cfg.Auth {
	case AuthBasic:
		oc.Username, oc.Password = cfg.Username, cfg.Password
	case AuthSigV4:
		awsCfg, err := awsconfig.LoadDefaultConfig(ctx, awsconfig.WithRegion(cfg.Region))
		if err != nil {
			return nil, fmt.Errorf("aws credentials for opensearch: %w", err)
		}
		s, err := awsv2.NewSignerWithService(awsCfg, cfg.Service)
		if err != nil {
			return nil, fmt.Errorf("sigv4 signer: %w", err)
		}
		oc.Signer = s
	}
	c, err := opensearch.NewClient(oc)
	if err != nil {
		return nil, fmt.Errorf("opensearch client: %w", err)
	}
	return c, nil
}
