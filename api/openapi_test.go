package api

import (
	"reflect"
	"sort"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

type document struct {
	Paths      map[string]map[string]any `yaml:"paths"`
	Components struct {
		Schemas map[string]struct {
			Properties map[string]any `yaml:"properties"`
			Required   []string       `yaml:"required"`
		} `yaml:"schemas"`
	} `yaml:"components"`
}

// LoadDocument parses the embedded OpenAPI document.
func loadDocument(t testing.TB) document {
	t.Helper()
	var d document
	if err := yaml.Unmarshal(OpenAPI, &d); err != nil {
		t.Fatalf("parse openapi.yaml: %v", err)
	}
	return d
}

// jsonFields lists the JSON member names of a struct type, and which are
// always present (no omitempty).
func jsonFields(t reflect.Type) (all, always []string) {
	for i := 0; i < t.NumField(); i++ {
		tag := t.Field(i).Tag.Get("json")
		name, opts, _ := strings.Cut(tag, ",")
		if name == "-" || name == "" {
			continue
		}
		all = append(all, name)
		if !strings.Contains(opts, "omitempty") {
			always = append(always, name)
		}
	}
	sort.Strings(all)
	sort.Strings(always)
	return all, always
}

// TestSchemasMatchTypes keeps the Go types and the document's schemas in
// step: the same members, and every member the Go type always sends is
// required in the schema of a response.
func TestSchemasMatchTypes(t *testing.T) {
	d := loadDocument(t)
	cases := []struct {
		schema   string
		typ      any
		response bool
	}{
		{"Problem", Problem{}, true},
		{"Principal", Principal{}, true},
		{"Me", Me{}, true},
		{"Range", Range{}, true},
		{"Quota", Quota{}, true},
		{"Usage", Usage{}, true},
		{"KindInfo", KindInfo{}, true},
		{"Limits", Limits{}, true},
		{"HogboxSpec", BoxSpec{}, true},
		{"Hogbox", Box{}, true},
		{"HogboxList", BoxList{}, true},
		{"CreateHogboxRequest", CreateBoxRequest{}, false},
		{"UpdateHogboxRequest", UpdateBoxRequest{}, false},
		{"ExecRequest", ExecRequest{}, false},
		{"ExecResult", ExecResult{}, true},
		{"SignalRequest", SignalRequest{}, false},
		{"ExecEvent", ExecEvent{}, true},
		{"FileInfo", FileInfo{}, true},
		{"BoxEvent", BoxEvent{}, true},
		{"CreatePreviewTokenRequest", CreatePreviewTokenRequest{}, false},
		{"PreviewToken", PreviewToken{}, true},
		{"PreviewTokenList", PreviewTokenList{}, true},
		{"BoxEventList", BoxEventList{}, true},
		{"CreatePrincipalRequest", CreatePrincipalRequest{}, false},
		{"CreateTokenRequest", CreateTokenRequest{}, false},
		{"Shape", Shape{}, true},
		{"Snapshot", Snapshot{}, true},
		{"SnapshotList", SnapshotList{}, true},
		{"SnapshotAlias", SnapshotAlias{}, true},
		{"SnapshotAliasList", SnapshotAliasList{}, true},
		{"Devbox", Devbox{}, true},
		{"CreateDevboxRequest", CreateDevboxRequest{}, false},
		{"UpdateDevboxRequest", UpdateDevboxRequest{}, false},
		{"DevboxList", DevboxList{}, true},
		{"DevboxEvent", DevboxEvent{}, true},
		{"DevboxEventList", DevboxEventList{}, true},
		{"Token", Token{}, true},
		{"ArchiveInfo", ArchiveInfo{}, true},
		{"PTYMessage", PTYMessage{}, true},
		{"TunnelMessage", TunnelMessage{}, true},
		{"TokenList", TokenList{}, true},
		{"RateLimit", RateLimit{}, true},
		{"QuotaOverrides", QuotaOverrides{}, true},
		{"PrincipalDetail", PrincipalDetail{}, true},
		{"PrincipalList", PrincipalList{}, true},
		{"UpdatePrincipalRequest", UpdatePrincipalRequest{}, false},
		{"TrustMapping", TrustMapping{}, true},
		{"CreateTrustMappingRequest", CreateTrustMappingRequest{}, false},
		{"TrustMappingList", TrustMappingList{}, true},
		{"AuditEntry", AuditEntry{}, true},
		{"AuditList", AuditList{}, true},
	}
	for _, c := range cases {
		t.Run(c.schema, func(t *testing.T) {
			s, ok := d.Components.Schemas[c.schema]
			if !ok {
				t.Fatalf("schema %s missing from openapi.yaml", c.schema)
			}
			all, always := jsonFields(reflect.TypeOf(c.typ))
			var props []string
			for p := range s.Properties {
				props = append(props, p)
			}
			sort.Strings(props)
			if !reflect.DeepEqual(all, props) {
				t.Errorf("members differ:\n go:      %v\n openapi: %v", all, props)
			}
			if !c.response {
				return
			}
			req := append([]string(nil), s.Required...)
			sort.Strings(req)
			if !reflect.DeepEqual(always, req) {
				t.Errorf("always-sent members differ from required:\n go:      %v\n openapi: %v", always, req)
			}
		})
	}
}

func TestOperationsParse(t *testing.T) {
	d := loadDocument(t)
	if len(d.Paths) < 10 {
		t.Fatalf("too few paths: %d", len(d.Paths))
	}
}
