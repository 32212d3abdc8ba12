package cli

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	"gopkg.in/yaml.v3"
)

// Output formats.
const (
	formatText = "text"
	formatJSON = "json"
	formatYAML = "yaml"
)

// output is the --json / -o choice of a read command.
type output struct {
	json   bool
	format string
}

// addOutputFlags gives cmd --json and -o.
func addOutputFlags(cmd *cobra.Command, o *output) {
	cmd.Flags().BoolVar(&o.json, "json", false, "print JSON (same as -o json)")
	cmd.Flags().StringVarP(&o.format, "output", "o", formatText, "output format: text, json or yaml")
}

// resolved returns the chosen format, or a usage error.
func (o output) resolved() (string, error) {
	if o.json {
		if o.format != formatText && o.format != formatJSON {
			return "", usageError{fmt.Errorf("--json and -o %s disagree; give one", o.format)}
		}
		return formatJSON, nil
	}
	switch o.format {
	case formatText, "table", "":
		return formatText, nil
	case formatJSON, formatYAML:
		return o.format, nil
	}
	return "", usageError{fmt.Errorf("unknown output format %q: use text, json or yaml", o.format)}
}

// machine reports whether the output is for programs (json or yaml).
func (o output) machine() bool {
	f, err := o.resolved()
	return err == nil && f != formatText
}

// render writes v to w in the chosen format: JSON or YAML of v itself, or
// for people whatever text writes. Every read command prints through it.
func render(w io.Writer, o output, v any, text func(w io.Writer) error) error {
	f, err := o.resolved()
	if err != nil {
		return err
	}
	switch f {
	case formatJSON:
		b, err := json.MarshalIndent(v, "", "  ")
		if err != nil {
			return fmt.Errorf("encode JSON: %w", err)
		}
		_, err = w.Write(append(b, '\n'))
		return err
	case formatYAML:
		b, err := toYAML(v)
		if err != nil {
			return err
		}
		_, err = w.Write(b)
		return err
	}
	return text(w)
}

// toYAML renders v as YAML with the member names and order of its JSON.
func toYAML(v any) ([]byte, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("encode YAML: %w", err)
	}
	var n yaml.Node
	if err := yaml.Unmarshal(b, &n); err != nil {
		return nil, fmt.Errorf("encode YAML: %w", err)
	}
	blockStyle(&n)
	var out bytes.Buffer
	enc := yaml.NewEncoder(&out)
	enc.SetIndent(2)
	if err := enc.Encode(&n); err != nil {
		return nil, fmt.Errorf("encode YAML: %w", err)
	}
	if err := enc.Close(); err != nil {
		return nil, fmt.Errorf("encode YAML: %w", err)
	}
	return out.Bytes(), nil
}

// blockStyle turns the flow style that JSON parses into into block style,
// keeping strings quoted only where YAML needs it, YAML 1.1 readers
// included (for whom yes and off are booleans).
func blockStyle(n *yaml.Node) {
	n.Style = 0
	if n.Kind == yaml.ScalarNode && n.Tag == "!!str" && yaml11Bools[strings.ToLower(n.Value)] {
		n.Style = yaml.DoubleQuotedStyle
	}
	for _, c := range n.Content {
		blockStyle(c)
	}
}

var yaml11Bools = map[string]bool{"y": true, "yes": true, "n": true, "no": true, "on": true, "off": true}

// table writes rows under a header, in columns two spaces apart.
func table(w io.Writer, header []string, rows [][]string) error {
	tw := tabwriter.NewWriter(w, 0, 8, 2, ' ', 0)
	fmt.Fprintln(tw, strings.Join(header, "\t"))
	for _, r := range rows {
		fmt.Fprintln(tw, strings.Join(r, "\t"))
	}
	return tw.Flush()
}

// pairs writes "Key:  value" lines with the values aligned.
func pairs(w io.Writer, kv ...string) error {
	tw := tabwriter.NewWriter(w, 0, 8, 2, ' ', 0)
	for i := 0; i+1 < len(kv); i += 2 {
		fmt.Fprintf(tw, "%s:\t%s\n", kv[i], kv[i+1])
	}
	return tw.Flush()
}

// orDash shows an empty value as "-".
func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// age is a short, rounded-down duration such as 45s, 12m, 3h or 4d.
func age(d time.Duration) string {
	switch {
	case d < 0:
		return "0s"
	case d < time.Minute:
		return fmt.Sprintf("%ds", int(d/time.Second))
	case d < time.Hour:
		return fmt.Sprintf("%dm", int(d/time.Minute))
	case d < 48*time.Hour:
		return fmt.Sprintf("%dh", int(d/time.Hour))
	}
	return fmt.Sprintf("%dd", int(d/(24*time.Hour)))
}

// timestamp is a time in UTC to the second.
func timestamp(t time.Time) string {
	return t.UTC().Format(time.RFC3339)
}

// mib shows a size in MiB, as GiB when it is whole GiB.
func mib(n int64) string {
	if n >= 1024 && n%1024 == 0 {
		return fmt.Sprintf("%d GiB", n/1024)
	}
	return fmt.Sprintf("%d MiB", n)
}
