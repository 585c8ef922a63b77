package main

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
)

// migrateURL turns a PostgreSQL DSN into the URL golang-migrate's pgx/v5
// driver opens: scheme pgx5://. The secrets file holds libpq keyword/value
// DSNs (what Dapr's connectionString takes); URLs are accepted too.
func migrateURL(dsn string) (string, error) {
	dsn = strings.TrimSpace(dsn)
	for _, prefix := range []string{"postgres://", "postgresql://", "pgx5://"} {
		if strings.HasPrefix(dsn, prefix) {
			u, err := url.Parse(dsn)
			if err != nil {
				// url errors quote the input, which holds the password.
				return "", errors.New("parse DSN: not a valid URL")
			}
			u.Scheme = "pgx5"
			return u.String(), nil
		}
	}
	params, err := parseKeywordDSN(dsn)
	if err != nil {
		return "", err
	}
	return keywordsToURL(params)
}

// keywordsToURL maps libpq keywords onto URL parts; keywords without a URL
// part (sslmode, connect_timeout, ...) become query parameters, which pgx
// reads the same way.
func keywordsToURL(params map[string]string) (string, error) {
	u := &url.URL{Scheme: "pgx5"}
	query := url.Values{}
	host, port := params["host"], params["port"]
	delete(params, "host")
	delete(params, "port")
	switch {
	case strings.Contains(host, ","):
		return "", errors.New("DSN with several hosts is not supported")
	case strings.HasPrefix(host, "/"):
		// A Unix socket directory cannot be a URL host; pgx takes it as a
		// query parameter.
		query.Set("host", host)
		if port != "" {
			query.Set("port", port)
		}
	default:
		if strings.Contains(host, ":") {
			host = "[" + host + "]" // IPv6 literal
		}
		u.Host = host
		if port != "" {
			u.Host += ":" + port
		}
	}
	if user, ok := params["user"]; ok {
		if pw, ok := params["password"]; ok {
			u.User = url.UserPassword(user, pw)
		} else {
			u.User = url.User(user)
		}
	} else if _, ok := params["password"]; ok {
		return "", errors.New("DSN has a password but no user")
	}
	delete(params, "user")
	delete(params, "password")
	if db, ok := params["dbname"]; ok {
		u.Path = "/" + db
		delete(params, "dbname")
	}
	for k, v := range params {
		query.Set(k, v)
	}
	u.RawQuery = query.Encode()
	return u.String(), nil
}

// parseKeywordDSN parses a libpq keyword/value string: key = value pairs
// separated by spaces; a value may be single-quoted, and a backslash escapes
// the next character. Errors never include values (they may be passwords).
func parseKeywordDSN(dsn string) (map[string]string, error) {
	params := map[string]string{}
	s := dsn
	for {
		s = strings.TrimLeft(s, " \t\n\r\f\v")
		if s == "" {
			break
		}
		eq := strings.IndexByte(s, '=')
		if eq < 0 {
			return nil, errors.New("parse DSN: missing '=' after a keyword")
		}
		key := strings.TrimRight(s[:eq], " \t\n\r\f\v")
		if key == "" || strings.ContainsAny(key, " \t\n\r\f\v'\\") {
			return nil, fmt.Errorf("parse DSN: invalid keyword %q", key)
		}
		s = strings.TrimLeft(s[eq+1:], " \t\n\r\f\v")
		value, rest, err := readDSNValue(s)
		if err != nil {
			return nil, fmt.Errorf("parse DSN: value of %q: %w", key, err)
		}
		params[key] = value
		s = rest
	}
	return params, nil
}

// readDSNValue reads one value at the start of s and returns it with the
// remaining input.
func readDSNValue(s string) (value, rest string, err error) {
	var b strings.Builder
	quoted := strings.HasPrefix(s, "'")
	i := 0
	if quoted {
		i = 1
	}
	for ; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '\\':
			i++
			if i == len(s) {
				return "", "", errors.New("ends with a lone backslash")
			}
			b.WriteByte(s[i])
		case quoted && c == '\'':
			return b.String(), s[i+1:], nil
		case !quoted && strings.IndexByte(" \t\n\r\f\v", c) >= 0:
			return b.String(), s[i:], nil
		default:
			b.WriteByte(c)
		}
	}
	if quoted {
		return "", "", errors.New("unterminated quoted value")
	}
	return b.String(), "", nil
}
