package server

import (
	"sort"
	"strings"
	"testing"

	"github.com/PostHog/hogland/api"
	"gopkg.in/yaml.v3"
)

// TestRoutesMatchOpenAPI fails when the server answers an operation the
// document does not describe, or the document describes one the server
// does not answer.
func TestRoutesMatchOpenAPI(t *testing.T) {
	var doc struct {
		Paths map[string]map[string]any `yaml:"paths"`
	}
	if err := yaml.Unmarshal(api.OpenAPI, &doc); err != nil {
		t.Fatalf("parse openapi.yaml: %v", err)
	}
	var documented []string
	for p, item := range doc.Paths {
		for m := range item {
			switch m {
			case "get", "head", "post", "put", "patch", "delete", "options":
				documented = append(documented, strings.ToUpper(m)+" "+p)
			}
		}
	}
	var served []string
	for _, rt := range New(Config{}).Routes() {
		// OpenAPI has no rest-of-path wildcard: {path...} is written {path}.
		served = append(served, rt.Method+" "+strings.ReplaceAll(rt.Pattern, "...}", "}"))
	}
	sort.Strings(documented)
	sort.Strings(served)
	if strings.Join(documented, "\n") != strings.Join(served, "\n") {
		t.Errorf("routes and openapi.yaml disagree\nserved:\n  %s\ndocumented:\n  %s",
			strings.Join(served, "\n  "), strings.Join(documented, "\n  "))
	}
}
