package searchclient_test

import (
	"encoding/json"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shopmesh/shopmesh/apps/gateway/searchclient"
)

func TestFacetsKeepTheServicesOrder(t *testing.T) {
	var r searchclient.Result
	require.NoError(t, json.Unmarshal([]byte(`{"items":[],"total":4,"next_page_token":"",
	  "facets":{"price":{"under_25":1,"25_to_50":3},"category":{"kitchen":3,"audio":1}}}`), &r))
	assert.Equal(t, searchclient.Facets{
		{Name: "price", Buckets: []searchclient.Bucket{{Value: "under_25", Count: 1}, {Value: "25_to_50", Count: 3}}},
		{Name: "category", Buckets: []searchclient.Bucket{{Value: "kitchen", Count: 3}, {Value: "audio", Count: 1}}},
	}, r.Facets)

	for _, empty := range []string{`{}`, `{"facets":null}`, `{"facets":{}}`} {
		var r searchclient.Result
		require.NoError(t, json.Unmarshal([]byte(empty), &r), empty)
		assert.Empty(t, r.Facets, empty)
	}
	for _, bad := range []string{`{"facets":[]}`, `{"facets":{"category":[1]}}`, `{"facets":{"category":{"kitchen":"3"}}}`} {
		var r searchclient.Result
		assert.Error(t, json.Unmarshal([]byte(bad), &r), bad)
	}
}

func TestSelectPassesOnlySearchParameters(t *testing.T) {
	in := url.Values{"q": {"kettle"}, "sort": {"newest"}, "page_size": {"5"}, "category": {"a", "b"}, "debug": {"1"}, "wait": {"true"}}
	assert.Equal(t, url.Values{"q": {"kettle"}, "sort": {"newest"}, "page_size": {"5"}, "category": {"a", "b"}}, searchclient.Select(in))
}

func TestQueryValues(t *testing.T) {
	minPrice, no, size := int64(0), false, 10
	q := searchclient.Query{Q: "kettle", MinPrice: &minPrice, InStock: &no, Sort: searchclient.SortNewest, PageSize: &size}
	assert.Equal(t, url.Values{"q": {"kettle"}, "min_price": {"0"}, "in_stock": {"false"}, "sort": {"newest"}, "page_size": {"10"}}, q.Values(),
		"a zero price and false are given values, not absent ones")
	assert.Empty(t, searchclient.Query{}.Values())
}

// q is capped in characters, not bytes, and the refusal names the field.
func TestCheckQueryLength(t *testing.T) {
	if fe := searchclient.CheckQueryLength(strings.Repeat("é", searchclient.MaxQueryLength)); fe != nil {
		t.Errorf("%d characters refused: %v", searchclient.MaxQueryLength, fe)
	}
	fe := searchclient.CheckQueryLength(strings.Repeat("a", searchclient.MaxQueryLength+1))
	if fe == nil || fe.Field != "q" {
		t.Errorf("%d characters: %v, want a problem on q", searchclient.MaxQueryLength+1, fe)
	}
}
