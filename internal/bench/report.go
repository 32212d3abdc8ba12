package bench

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Num is a float that encodes NaN and infinities as JSON null.
type Num float64

// MarshalJSON writes null for NaN and infinities.
func (n Num) MarshalJSON() ([]byte, error) {
	f := float64(n)
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return []byte("null"), nil
	}
	return strconv.AppendFloat(nil, roundSig(f), 'f', -1, 64), nil
}

// UnmarshalJSON reads a number or null (NaN).
func (n *Num) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		*n = Num(math.NaN())
		return nil
	}
	var f float64
	if err := json.Unmarshal(b, &f); err != nil {
		return err
	}
	*n = Num(f)
	return nil
}

// roundSig keeps 6 significant digits, enough for any figure here.
func roundSig(f float64) float64 {
	if f == 0 {
		return 0
	}
	s := strconv.FormatFloat(f, 'g', 6, 64)
	r, _ := strconv.ParseFloat(s, 64)
	return r
}

// Figure is one measured number, beside the baseline it is judged against.
type Figure struct {
	// Key names the figure in results.json, stable across runs.
	Key     string `json:"key"`
	Section string `json:"section"`
	Name    string `json:"name"`
	Unit    string `json:"unit"`
	Value   Num    `json:"value"`
	// Baseline is nil where there is none ("n/a").
	Baseline *Baseline `json:"baseline"`
	// Ratio is Value / Baseline.Value, nil without a baseline.
	Ratio  *Num    `json:"ratio"`
	Target *Target `json:"target,omitempty"`
	Note   string  `json:"note,omitempty"`
}

// Baseline is what a figure is compared with, measured in the same run.
type Baseline struct {
	Name  string `json:"name"`
	Value Num    `json:"value"`
}

// Target is a figure's goal; the bench reports it but never fails on it.
type Target struct {
	// Rule is the goal in words, e.g. "≤ baseline + 20 ms".
	Rule string `json:"rule"`
	// Limit is the threshold in the figure's unit.
	Limit Num `json:"limit"`
	// AtMost is true when the value must not exceed Limit, false when it
	// must reach it.
	AtMost bool `json:"at_most"`
	Pass   bool `json:"pass"`
}

func newFigure(section, key, name, unit string, v float64) Figure {
	return Figure{Section: section, Key: key, Name: name, Unit: unit, Value: Num(v)}
}

// vs sets the baseline and the ratio to it.
func (f Figure) vs(name string, b float64) Figure {
	f.Baseline = &Baseline{Name: name, Value: Num(b)}
	r := Num(float64(f.Value) / b)
	f.Ratio = &r
	return f
}

// atMost sets a target the value must not exceed.
func (f Figure) atMost(rule string, limit float64) Figure {
	f.Target = &Target{Rule: rule, Limit: Num(limit), AtMost: true, Pass: float64(f.Value) <= limit}
	return f
}

// atLeast sets a target the value must reach.
func (f Figure) atLeast(rule string, limit float64) Figure {
	f.Target = &Target{Rule: rule, Limit: Num(limit), Pass: float64(f.Value) >= limit}
	return f
}

func (f Figure) note(s string) Figure {
	f.Note = s
	return f
}

// Report is the outcome of one run: results.json.
type Report struct {
	Machine   Machine   `json:"machine"`
	Config    Config    `json:"config"`
	StartedAt time.Time `json:"started_at"`
	Seconds   Num       `json:"seconds"`
	// Figures are the headline numbers, with their baselines and targets.
	Figures []Figure `json:"figures"`
	// Breakdown are supporting numbers on where the time goes.
	Breakdown []Figure `json:"breakdown"`
	// Series summarises every series of samples, by name.
	Series map[string]Summary `json:"series"`
	Notes  []string           `json:"notes"`
}

func (r *Report) add(f ...Figure)      { r.Figures = append(r.Figures, f...) }
func (r *Report) addBreak(f ...Figure) { r.Breakdown = append(r.Breakdown, f...) }
func (r *Report) notef(format string, a ...any) {
	r.Notes = append(r.Notes, fmt.Sprintf(format, a...))
}

// series records a summary of samples under name and returns it.
func (r *Report) series(name string, xs []float64) Summary {
	s := Summarize(xs)
	if r.Series == nil {
		r.Series = map[string]Summary{}
	}
	r.Series[name] = s
	return s
}

// Targets counts the figures with a target, and those that pass.
func (r *Report) Targets() (pass, total int) {
	for _, f := range r.Figures {
		if f.Target != nil {
			total++
			if f.Target.Pass {
				pass++
			}
		}
	}
	return pass, total
}

// WriteFiles writes results.json and results.md into dir.
func (r *Report) WriteFiles(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return fmt.Errorf("encode results: %w", err)
	}
	if err := os.WriteFile(filepath.Join(dir, "results.json"), append(b, '\n'), 0o644); err != nil {
		return err
	}
	var md strings.Builder
	r.Markdown(&md)
	return os.WriteFile(filepath.Join(dir, "results.md"), []byte(md.String()), 0o644)
}

// Markdown writes the report as a Markdown document: the table of
// figures, the breakdown, the machine and the notes.
func (r *Report) Markdown(w io.Writer) {
	fmt.Fprintf(w, "# hogland benchmark\n\n")
	m := r.Machine
	fmt.Fprintf(w, "%s · %d CPUs (%s) · %s RAM · kernel %s · %s · %s · cgroup %s\n\n",
		r.StartedAt.UTC().Format("2006-01-02 15:04 UTC"), m.NProc, m.CPUModel, humanMiB(float64(m.MemTotalMiB)),
		m.Kernel, m.Runtime, m.GoVersion, m.Cgroup)
	pass, total := r.Targets()
	fmt.Fprintf(w, "Every baseline was measured in the same run, interleaved with the figure where possible. Targets met: **%d of %d**.\n\n", pass, total)
	writeTable(w, r.Figures, true)
	if len(r.Breakdown) > 0 {
		fmt.Fprintf(w, "\n## Where the time goes\n\n")
		writeTable(w, r.Breakdown, false)
	}
	if len(r.Series) > 0 {
		fmt.Fprintf(w, "\n## Every series\n\n")
		fmt.Fprintf(w, "| Series | n | min | p50 | p90 | p99 | max | mean |\n|---|---:|---:|---:|---:|---:|---:|---:|\n")
		for _, k := range sortedKeys(r.Series) {
			s := r.Series[k]
			if s.N == 0 {
				continue
			}
			fmt.Fprintf(w, "| %s | %d |", k, s.N)
			for _, v := range []Num{s.Min, s.P50, s.P90, s.P99, s.Max, s.Mean} {
				fmt.Fprintf(w, " %s |", formatValue(float64(v), ""))
			}
			fmt.Fprintln(w)
		}
	}
	fmt.Fprintf(w, "\n## Machine and run\n\n")
	fmt.Fprintf(w, "| | |\n|---|---|\n")
	for _, kv := range m.rows() {
		fmt.Fprintf(w, "| %s | %s |\n", kv[0], mdEscape(kv[1]))
	}
	c := r.Config
	fmt.Fprintf(w, "| command | `hogbench %s` |\n", mdEscape(strings.Join(c.Args, " ")))
	fmt.Fprintf(w, "| counts | n=%d creates, %d samples per latency, %d boxes, image %s, %s throughput per side with %d clients |\n",
		c.N, c.Samples, c.Boxes, c.Image, (time.Duration(c.ThroughputSeconds * float64(time.Second))).String(), c.Workers)
	fmt.Fprintf(w, "| took | %.0f s |\n", float64(r.Seconds))
	if len(r.Notes) > 0 {
		fmt.Fprintf(w, "\n## Notes\n\n")
		for _, n := range r.Notes {
			fmt.Fprintf(w, "- %s\n", n)
		}
	}
}

func writeTable(w io.Writer, figs []Figure, targets bool) {
	if targets {
		fmt.Fprintf(w, "| Figure | hogland | Baseline (same run) | Baseline | Ratio | Target | Result |\n")
		fmt.Fprintf(w, "|---|---:|---|---:|---:|---|---|\n")
	} else {
		fmt.Fprintf(w, "| Step | Value | Compared with | Value | Ratio |\n")
		fmt.Fprintf(w, "|---|---:|---|---:|---:|\n")
	}
	section := ""
	for _, f := range figs {
		name := f.Name
		if f.Section != section {
			section = f.Section
			name = "**" + section + "**: " + name
		}
		if f.Note != "" {
			name += " (" + f.Note + ")"
		}
		base, bval, ratio := "n/a", "n/a", "n/a"
		if f.Baseline != nil {
			base, bval = f.Baseline.Name, formatValue(float64(f.Baseline.Value), f.Unit)
		}
		if f.Ratio != nil {
			ratio = formatRatio(float64(*f.Ratio))
		}
		row := []string{mdEscape(name), formatValue(float64(f.Value), f.Unit), mdEscape(base), bval, ratio}
		if targets {
			tgt, res := "", ""
			if f.Target != nil {
				tgt = mdEscape(f.Target.Rule) + " (" + formatValue(float64(f.Target.Limit), f.Unit) + ")"
				res = "pass"
				if !f.Target.Pass {
					res = "**FAIL**"
				}
			}
			row = append(row, tgt, res)
		}
		fmt.Fprintf(w, "| %s |\n", strings.Join(row, " | "))
	}
}

// formatValue prints v with its unit and about three significant digits.
func formatValue(v float64, unit string) string {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return "n/a"
	}
	var s string
	switch a := math.Abs(v); {
	case a == 0:
		s = "0"
	case a < 1:
		s = strconv.FormatFloat(v, 'f', 3, 64)
	case a < 10:
		s = strconv.FormatFloat(v, 'f', 2, 64)
	case a < 100:
		s = strconv.FormatFloat(v, 'f', 1, 64)
	default:
		s = strconv.FormatFloat(v, 'f', 0, 64)
	}
	if unit == "" {
		return s
	}
	return s + " " + unit
}

func formatRatio(r float64) string {
	if math.IsNaN(r) || math.IsInf(r, 0) {
		return "n/a"
	}
	return formatValue(r, "") + "×"
}

func humanMiB(mib float64) string {
	if mib >= 1024 {
		return strconv.FormatFloat(mib/1024, 'f', 1, 64) + " GiB"
	}
	return strconv.FormatFloat(mib, 'f', 0, 64) + " MiB"
}

func mdEscape(s string) string { return strings.ReplaceAll(s, "|", `\|`) }

// sortedKeys is m's keys in order.
func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
