package bleveindex_test

import (
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/blevesearch/bleve/v2"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shopmesh/shopmesh/apps/search/bleveindex"
	"github.com/shopmesh/shopmesh/apps/search/indextest"
	"github.com/shopmesh/shopmesh/apps/search/search"
	"github.com/shopmesh/shopmesh/apps/search/searchtest"
)

func discard() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func TestConformance(t *testing.T) {
	indextest.Run(t, 0, func(t *testing.T) search.Index {
		return bleveindex.New(t.TempDir(), discard())
	})
}

// TestRestartKeepsTheIndex closes the index with changes in it and opens
// the directory again: no rebuild, the changes are there.
func TestRestartKeepsTheIndex(t *testing.T) {
	dir := t.TempDir()
	seed := searchtest.Seed(t)
	ctx := context.Background()

	idx := bleveindex.New(dir, discard())
	svc, cat := indextest.Start(t, idx, seed)
	kettle := searchtest.BySKU(t, seed, "KIT-0001")
	kettle.Version, kettle.Name = 2, "Gooseneck Kettle"
	require.NoError(t, svc.ProductChanged(ctx, kettle))
	require.NoError(t, svc.Stop(ctx))
	require.NoError(t, idx.Close())

	reopened := bleveindex.New(dir, discard())
	svc2, cat2 := indextest.Start(t, reopened, nil)
	assert.Equal(t, 1, cat.Calls, "the first start read the catalog")
	assert.Zero(t, cat2.Calls, "a restart does not rebuild")
	_, ran := svc2.LastRun()
	assert.False(t, ran)
	assert.Equal(t, len(seed), indextest.Find(t, svc2, "", search.Query{}).Total)
	assert.Equal(t, []string{"KIT-0001"}, indextest.SKUs(indextest.Find(t, svc2, "gooseneck", search.Query{})))
	kettle.Version = 1
	require.NoError(t, svc2.ProductChanged(ctx, kettle), "versions survive the restart")
	assert.Equal(t, "Gooseneck Kettle", indextest.Find(t, svc2, "gooseneck", search.Query{}).Items[0].Name)
}

// TestDamagedIndexIsRebuilt damages the stored index in several ways; each
// time a start rebuilds it from the catalog and reports ready only then.
func TestDamagedIndexIsRebuilt(t *testing.T) {
	seed := searchtest.Seed(t)
	damage := map[string]func(t *testing.T, dir string){
		"data directory deleted": func(t *testing.T, dir string) { require.NoError(t, os.RemoveAll(dir)) },
		"index folder deleted": func(t *testing.T, dir string) {
			require.NoError(t, os.RemoveAll(filepath.Join(dir, current(t, dir))))
		},
		"CURRENT deleted": func(t *testing.T, dir string) { require.NoError(t, os.Remove(filepath.Join(dir, "CURRENT"))) },
		"CURRENT garbled": func(t *testing.T, dir string) {
			require.NoError(t, os.WriteFile(filepath.Join(dir, "CURRENT"), []byte("../../etc"), 0o600))
		},
		"every index file overwritten": func(t *testing.T, dir string) {
			root := filepath.Join(dir, current(t, dir))
			require.NoError(t, filepath.WalkDir(root, func(path string, d os.DirEntry, err error) error {
				if err == nil && !d.IsDir() {
					err = os.WriteFile(path, []byte(strings.Repeat("\xde\xad\xbe\xef", 1024)), 0o600)
				}
				return err
			}))
		},
		"segments truncated": func(t *testing.T, dir string) {
			root := filepath.Join(dir, current(t, dir), "store")
			entries, err := os.ReadDir(root)
			require.NoError(t, err)
			n := 0
			for _, e := range entries {
				if strings.HasSuffix(e.Name(), ".zap") {
					require.NoError(t, os.Truncate(filepath.Join(root, e.Name()), 10))
					n++
				}
			}
			require.Positive(t, n, "no segment files to damage")
		},
		"another schema": func(t *testing.T, dir string) {
			idx, err := bleve.Open(filepath.Join(dir, current(t, dir)))
			require.NoError(t, err)
			require.NoError(t, idx.SetInternal([]byte("shopmesh.schema"), []byte("0")))
			require.NoError(t, idx.Close())
		},
	}
	for name, f := range damage {
		t.Run(name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "search")
			idx := bleveindex.New(dir, discard())
			svc, _ := indextest.Start(t, idx, seed)
			require.NoError(t, svc.Stop(context.Background()))
			require.NoError(t, idx.Close())

			f(t, dir)

			reopened := bleveindex.New(dir, discard())
			require.NoError(t, reopened.Open(context.Background()))
			assert.False(t, reopened.Live(), "the damaged index is not used")
			require.NoError(t, reopened.Close())

			svc2, cat := indextest.Start(t, bleveindex.New(dir, discard()), seed)
			assert.Positive(t, cat.Calls, "rebuilt from the catalog")
			assert.Equal(t, []string{"KIT-0001"}, indextest.SKUs(indextest.Find(t, svc2, "stainles kettel", search.Query{})))
			assert.Equal(t, len(seed), indextest.Find(t, svc2, "", search.Query{}).Total)
			assert.Len(t, indexFolders(t, dir), 1, "the damaged index is removed once replaced")
		})
	}
}

// TestNotReadyUntilBuilt: while the first build waits for the catalog,
// searches answer ErrNotBuilt, events reach the build, and readiness fails.
func TestNotReadyUntilBuilt(t *testing.T) {
	seed := searchtest.Seed(t)
	ctx := context.Background()
	cat := searchtest.NewCatalog(seed)
	gate := make(chan struct{})
	svc := search.NewService(search.Deps{
		Index: bleveindex.New(t.TempDir(), discard()), Catalog: cat, Log: discard(),
		Await: func(ctx context.Context) error {
			select {
			case <-gate:
				return nil
			case <-ctx.Done():
				return ctx.Err()
			}
		},
	})
	require.NoError(t, svc.Start(ctx))
	t.Cleanup(func() { _ = svc.Stop(ctx) })

	require.ErrorIs(t, svc.Ready(ctx), search.ErrNotBuilt)
	_, err := svc.Search(ctx, "kettle", search.Query{Limit: 10, Sort: search.SortRelevance})
	require.ErrorIs(t, err, search.ErrNotBuilt)

	kettle := searchtest.BySKU(t, seed, "KIT-0001")
	kettle.Version, kettle.Name = 9, "Early Bird Kettle"
	require.NoError(t, svc.ProductChanged(ctx, kettle), "an event before the first build reaches the build")

	close(gate)
	indextest.WaitRun(t, svc)
	require.NoError(t, svc.Ready(ctx))
	assert.Equal(t, []string{"KIT-0001"}, indextest.SKUs(indextest.Find(t, svc, "early bird", search.Query{})))
}

// TestAnalysisMatchesQueries: the index analyses text exactly as
// search.Tokenize analyses queries, over the whole seed and odd input.
func TestAnalysisMatchesQueries(t *testing.T) {
	dir := t.TempDir()
	idx := bleveindex.New(dir, discard())
	_, _ = indextest.Start(t, idx, nil)
	require.NoError(t, idx.Close())
	raw, err := bleve.Open(filepath.Join(dir, current(t, dir)))
	require.NoError(t, err)
	defer raw.Close()
	analyzer := raw.Mapping().AnalyzerNamed("shopmesh_text")
	require.NotNil(t, analyzer)

	texts := []string{"Crème Brûlée Torch — Chef’s CHOICE", "Straße Ærø Łódź œuvre", "1.7 litre 10-inch USB-C", "日本語 テキスト 🔥", "don't stop"}
	for _, r := range searchtest.Seed(t) {
		texts = append(texts, r.Name, r.Description, r.Category)
	}
	for _, text := range texts {
		var got []string
		for _, tok := range analyzer.Analyze([]byte(text)) {
			got = append(got, string(tok.Term))
		}
		assert.Equal(t, search.Tokenize(text), got, "%q", text)
	}
}

func current(t *testing.T, dir string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, "CURRENT"))
	require.NoError(t, err)
	return strings.TrimSpace(string(b))
}

func indexFolders(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	var out []string
	for _, e := range entries {
		if e.IsDir() {
			out = append(out, e.Name())
		}
	}
	slices.Sort(out)
	return out
}
