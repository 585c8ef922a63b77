package main

import (
	"fmt"

	"github.com/grafana/grafana-foundation-sdk/go/cog"
	"github.com/grafana/grafana-foundation-sdk/go/cog/variants"
	"github.com/grafana/grafana-foundation-sdk/go/common"
	"github.com/grafana/grafana-foundation-sdk/go/dashboard"
	"github.com/grafana/grafana-foundation-sdk/go/prometheus"
	"github.com/grafana/grafana-foundation-sdk/go/stat"
	"github.com/grafana/grafana-foundation-sdk/go/timeseries"
)

// The datasource of every panel and query: a Prometheus chosen by the
// dashboard variable "datasource", as Grafana does it. The page under
// observability/ui/dashboards ignores it and asks the Prometheus that
// serves it.
const datasourceVar = "datasource"

var promDatasource = common.DataSourceRef{
	Type: cog.ToPtr("prometheus"),
	Uid:  cog.ToPtr("${" + datasourceVar + "}"),
}

// Expressions may use only these Grafana variables, which the page and the
// e2e test (tests/e2e/dashboards_test.go) substitute: $__rate_interval (the
// window of a rate, at least four scrape intervals) and $__range (the time
// range shown, for stat panels).
const (
	rateInterval = "$__rate_interval"
	timeRange    = "$__range"
)

// query is one target of a panel: a PromQL expression and its legend
// ({{label}} is replaced by the series' label value).
type query struct {
	expr, legend string
}

func q(expr, legend string) query { return query{expr: expr, legend: legend} }

// panel is what a timeseries or stat panel needs; width is in Grafana's 24
// columns, height in its grid rows (30 px each).
type panel struct {
	title, description string
	unit               string
	width, height      uint32
	queries            []query
	// thresholds (stat panels): the value from which the number turns
	// amber and red; nil for none.
	warn, crit *float64
}

func f(v float64) *float64 { return &v }

// board builds one dashboard; it numbers the panels and rows in the order
// they are added, so that the JSON is the same on every run.
type board struct {
	file string
	b    *dashboard.DashboardBuilder
	id   uint32
	err  error
}

func newBoard(file, uid, title, description string, tags ...string) *board {
	b := dashboard.NewDashboardBuilder(title).
		Uid(uid).
		Description(description).
		Tags(append([]string{"shopmesh"}, tags...)).
		Editable().
		Timezone(common.TimeZoneBrowser).
		Tooltip(dashboard.DashboardCursorSyncCrosshair).
		Time("now-1h", "now").
		Refresh("10s").
		WithVariable(dashboard.NewDatasourceVariableBuilder(datasourceVar).
			Label("Prometheus").
			Type("prometheus"))
	return &board{file: file, b: b}
}

func (d *board) nextID() uint32 {
	d.id++
	return d.id
}

// row starts a new (expanded) row: the panels added after it belong to it.
func (d *board) row(title string) *board {
	d.b.WithRow(dashboard.NewRowBuilder(title).Id(d.nextID()))
	return d
}

func targets(p panel, refID func(int) string) []cog.Builder[variants.Dataquery] {
	out := make([]cog.Builder[variants.Dataquery], 0, len(p.queries))
	for i, qu := range p.queries {
		out = append(out, prometheus.NewDataqueryBuilder().
			Datasource(promDatasource).
			RefId(refID(i)).
			Expr(qu.expr).
			LegendFormat(qu.legend).
			Range())
	}
	return out
}

// refID names a panel's targets A, B, C... as Grafana does.
func refID(i int) string { return string(rune('A' + i)) }

// series adds a time series panel.
func (d *board) series(p panel) *board {
	if len(p.queries) == 0 {
		d.fail(fmt.Errorf("panel %q has no query", p.title))
	}
	if p.width == 0 {
		p.width = 8
	}
	if p.height == 0 {
		p.height = 8
	}
	b := timeseries.NewPanelBuilder().
		Id(d.nextID()).
		Title(p.title).
		Description(p.description).
		Datasource(promDatasource).
		Unit(p.unit).
		Span(p.width).
		Height(p.height).
		Min(0).
		LineWidth(1).
		FillOpacity(10).
		ShowPoints(common.VisibilityModeNever).
		Legend(common.NewVizLegendOptionsBuilder().
			ShowLegend(true).
			DisplayMode(common.LegendDisplayModeList).
			Placement(common.LegendPlacementBottom)).
		Tooltip(common.NewVizTooltipOptionsBuilder().
			Mode(common.TooltipDisplayModeMulti).
			Sort(common.SortOrderDescending)).
		Targets(targets(p, refID))
	d.b.WithPanel(b)
	return d
}

// single adds a stat panel: one big number, the last value of the range.
func (d *board) single(p panel) *board {
	if len(p.queries) == 0 {
		d.fail(fmt.Errorf("panel %q has no query", p.title))
	}
	if p.width == 0 {
		p.width = 4
	}
	if p.height == 0 {
		p.height = 4
	}
	steps := []dashboard.Threshold{{Value: nil, Color: "green"}}
	if p.warn != nil {
		steps = append(steps, dashboard.Threshold{Value: p.warn, Color: "orange"})
	}
	if p.crit != nil {
		steps = append(steps, dashboard.Threshold{Value: p.crit, Color: "red"})
	}
	b := stat.NewPanelBuilder().
		Id(d.nextID()).
		Title(p.title).
		Description(p.description).
		Datasource(promDatasource).
		Unit(p.unit).
		Span(p.width).
		Height(p.height).
		ColorMode(common.BigValueColorModeValue).
		GraphMode(common.BigValueGraphModeArea).
		TextMode(common.BigValueTextModeAuto).
		ReduceOptions(common.NewReduceDataOptionsBuilder().
			Calcs([]string{"lastNotNull"}).
			Values(false)).
		Thresholds(dashboard.NewThresholdsConfigBuilder().
			Mode(dashboard.ThresholdsModeAbsolute).
			Steps(steps)).
		Targets(targets(p, refID))
	d.b.WithPanel(b)
	return d
}

func (d *board) fail(err error) {
	if d.err == nil {
		d.err = err
	}
}

func (d *board) build() (dashboard.Dashboard, error) {
	if d.err != nil {
		return dashboard.Dashboard{}, fmt.Errorf("%s: %w", d.file, d.err)
	}
	out, err := d.b.Build()
	if err != nil {
		return dashboard.Dashboard{}, fmt.Errorf("%s: %w", d.file, err)
	}
	return out, nil
}
