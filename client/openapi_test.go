package client

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"regexp"
	"sort"
	"strings"
	"sync"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/PostHog/hogland/api"
)

// operations maps every operationId of api/openapi.yaml to the Client
// method that calls it, and a way to call it with made-up arguments. A new
// operation in the document fails TestEveryOperationHasAMethod until it is
// added here (with its method).
var operations = map[string]struct {
	method string
	invoke func(ctx context.Context, c *Client) error
}{
	"health":  {"Health", func(ctx context.Context, c *Client) error { _, err := c.Health(ctx); return err }},
	"metrics": {"Metrics", func(ctx context.Context, c *Client) error { _, err := c.Metrics(ctx); return err }},
	"getMe":   {"Me", func(ctx context.Context, c *Client) error { _, err := c.Me(ctx); return err }},
	"getLimits": {"Limits", func(ctx context.Context, c *Client) error {
		_, err := c.Limits(ctx)
		return err
	}},
	"createHogbox": {"CreateBox", func(ctx context.Context, c *Client) error {
		_, err := c.CreateBox(ctx, api.CreateBoxRequest{})
		return err
	}},
	"listHogboxes": {"ListBoxes", func(ctx context.Context, c *Client) error {
		_, err := c.ListBoxes(ctx, ListBoxesOptions{})
		return err
	}},
	"getHogbox": {"GetBox", func(ctx context.Context, c *Client) error {
		_, err := c.GetBox(ctx, testBox)
		return err
	}},
	"updateHogbox": {"UpdateBox", func(ctx context.Context, c *Client) error {
		_, err := c.UpdateBox(ctx, testBox, api.UpdateBoxRequest{})
		return err
	}},
	"deleteHogbox": {"DeleteBox", func(ctx context.Context, c *Client) error { return c.DeleteBox(ctx, testBox) }},
	"pauseHogbox": {"PauseBox", func(ctx context.Context, c *Client) error {
		_, err := c.PauseBox(ctx, testBox)
		return err
	}},
	"resumeHogbox": {"ResumeBox", func(ctx context.Context, c *Client) error {
		_, err := c.ResumeBox(ctx, testBox)
		return err
	}},
	"listHogboxEvents": {"BoxEvents", func(ctx context.Context, c *Client) error {
		_, err := c.BoxEvents(ctx, testBox, 0)
		return err
	}},
	"execHogbox": {"Exec", func(ctx context.Context, c *Client) error {
		_, err := c.Exec(ctx, testBox, api.ExecRequest{Argv: []string{"true"}})
		return err
	}},
	"execStreamHogbox": {"ExecStream", func(ctx context.Context, c *Client) error {
		_, err := c.ExecStream(ctx, testBox, api.ExecRequest{Argv: []string{"true"}})
		return err
	}},
	"execEventsHogbox": {"ExecEvents", func(ctx context.Context, c *Client) error {
		_, err := c.ExecEvents(ctx, testBox, "exe-1", 0)
		return err
	}},
	"writeFileHogbox": {"WriteFile", func(ctx context.Context, c *Client) error {
		_, err := c.WriteFile(ctx, testBox, "/f", strings.NewReader("x"), WriteFileOptions{})
		return err
	}},
	"readFileHogbox": {"ReadFile", func(ctx context.Context, c *Client) error {
		_, err := c.ReadFile(ctx, testBox, "/f")
		return err
	}},
	"createPrincipal": {"CreatePrincipal", func(ctx context.Context, c *Client) error {
		_, err := c.CreatePrincipal(ctx, api.CreatePrincipalRequest{Name: "n"})
		return err
	}},
	"createToken": {"CreateToken", func(ctx context.Context, c *Client) error {
		_, err := c.CreateToken(ctx, "prn-1", api.CreateTokenRequest{})
		return err
	}},
}

const testBox = "box-0123456789ab"

// schemaTypes maps the document's schemas to the Go types of package api
// (or of this package) that the client sends and decodes.
var schemaTypes = map[string]reflect.Type{
	"Me":                     reflect.TypeFor[api.Me](),
	"Limits":                 reflect.TypeFor[api.Limits](),
	"Hogbox":                 reflect.TypeFor[api.Box](),
	"HogboxList":             reflect.TypeFor[api.BoxList](),
	"CreateHogboxRequest":    reflect.TypeFor[api.CreateBoxRequest](),
	"UpdateHogboxRequest":    reflect.TypeFor[api.UpdateBoxRequest](),
	"BoxEventList":           reflect.TypeFor[api.BoxEventList](),
	"ExecRequest":            reflect.TypeFor[api.ExecRequest](),
	"ExecResult":             reflect.TypeFor[api.ExecResult](),
	"FileInfo":               reflect.TypeFor[api.FileInfo](),
	"CreatePrincipalRequest": reflect.TypeFor[api.CreatePrincipalRequest](),
	"Principal":              reflect.TypeFor[api.Principal](),
	"CreateTokenRequest":     reflect.TypeFor[api.CreateTokenRequest](),
	"Token":                  reflect.TypeFor[api.Token](),
}

type mediaSchema struct {
	Schema struct {
		Ref        string         `yaml:"$ref"`
		Type       string         `yaml:"type"`
		Properties map[string]any `yaml:"properties"`
	} `yaml:"schema"`
}

type operation struct {
	OperationID string `yaml:"operationId"`
	RequestBody struct {
		Content map[string]mediaSchema `yaml:"content"`
	} `yaml:"requestBody"`
	Responses map[string]struct {
		Content map[string]mediaSchema `yaml:"content"`
	} `yaml:"responses"`
}

type docOp struct {
	method, path string
	op           operation
}

// documentOps lists the operations of api/openapi.yaml.
func documentOps(t testing.TB) map[string]docOp {
	t.Helper()
	var d struct {
		Paths map[string]map[string]yaml.Node `yaml:"paths"`
	}
	if err := yaml.Unmarshal(api.OpenAPI, &d); err != nil {
		t.Fatalf("parse openapi.yaml: %v", err)
	}
	ops := map[string]docOp{}
	for path, methods := range d.Paths {
		for method, node := range methods {
			switch method {
			case "get", "put", "post", "patch", "delete", "head":
			default:
				continue // parameters, summary, ...
			}
			var op operation
			if err := node.Decode(&op); err != nil {
				t.Fatalf("%s %s: %v", method, path, err)
			}
			if op.OperationID == "" {
				t.Fatalf("%s %s has no operationId", method, path)
			}
			ops[op.OperationID] = docOp{method: strings.ToUpper(method), path: path, op: op}
		}
	}
	return ops
}

func TestEveryOperationHasAMethod(t *testing.T) {
	ops := documentOps(t)
	var missing, stale []string
	for id := range ops {
		if _, ok := operations[id]; !ok {
			missing = append(missing, id)
		}
	}
	for id := range operations {
		if _, ok := ops[id]; !ok {
			stale = append(stale, id)
		}
	}
	sort.Strings(missing)
	sort.Strings(stale)
	if len(missing) > 0 {
		t.Errorf("operations of api/openapi.yaml without a client method in the operations table: %v", missing)
	}
	if len(stale) > 0 {
		t.Errorf("operations table names operations that api/openapi.yaml no longer has: %v", stale)
	}
	ct := reflect.TypeFor[*Client]()
	for id, o := range operations {
		if _, ok := ct.MethodByName(o.method); !ok {
			t.Errorf("%s: Client has no method %s", id, o.method)
		}
	}
}

// TestMethodTypesMatchSchemas checks each method takes the document's
// request body type and returns its success body type.
func TestMethodTypesMatchSchemas(t *testing.T) {
	ops := documentOps(t)
	ct := reflect.TypeFor[*Client]()
	for id, d := range ops {
		o, ok := operations[id]
		if !ok {
			continue // reported by TestEveryOperationHasAMethod
		}
		m, ok := ct.MethodByName(o.method)
		if !ok {
			continue
		}
		t.Run(id, func(t *testing.T) {
			var params []reflect.Type
			for i := 2; i < m.Type.NumIn(); i++ { // skip the receiver and ctx
				params = append(params, m.Type.In(i))
			}
			if m.Type.NumIn() < 2 || m.Type.In(1) != reflect.TypeFor[context.Context]() {
				t.Errorf("%s does not take a context first", o.method)
			}
			if want := requestType(t, d.op); want != nil && !containsType(params, want) {
				t.Errorf("%s takes %v; the document's request body is %v", o.method, params, want)
			}
			last := m.Type.Out(m.Type.NumOut() - 1)
			if last != reflect.TypeFor[error]() {
				t.Errorf("%s does not return an error last", o.method)
			}
			want := responseType(t, d.op)
			switch {
			case want == nil && m.Type.NumOut() != 1:
				t.Errorf("%s returns %v; the document's answer has no body", o.method, m.Type.Out(0))
			case want != nil && (m.Type.NumOut() != 2 || m.Type.Out(0) != want):
				t.Errorf("%s returns %v; the document's answer is %v", o.method, m.Type, want)
			}
		})
	}
}

func containsType(ts []reflect.Type, want reflect.Type) bool {
	for _, t := range ts {
		if t == want || (want.Kind() == reflect.Interface && t.Implements(want)) {
			return true
		}
	}
	return false
}

// requestType is the Go type a method takes for the operation's body.
func requestType(t *testing.T, op operation) reflect.Type {
	for mt, c := range op.RequestBody.Content {
		switch mt {
		case "application/json":
			return schemaType(t, c)
		case "application/octet-stream":
			return reflect.TypeFor[io.Reader]()
		default:
			t.Fatalf("request media type %s has no Go type in this test", mt)
		}
	}
	return nil
}

// responseType is the Go type a method returns for the success answer:
// the JSON body when there is one, else the stream or bytes.
func responseType(t *testing.T, op operation) reflect.Type {
	media := map[string]mediaSchema{}
	for code, r := range op.Responses {
		if strings.HasPrefix(code, "2") {
			for mt, c := range r.Content {
				media[mt] = c
			}
		}
	}
	if c, ok := media["application/json"]; ok {
		return schemaType(t, c)
	}
	for mt := range media {
		switch mt {
		case "text/event-stream":
			return reflect.TypeFor[*ExecStream]()
		case "application/octet-stream":
			return reflect.TypeFor[io.ReadCloser]()
		case "text/plain":
			return reflect.TypeFor[string]()
		default:
			t.Fatalf("response media type %s has no Go type in this test", mt)
		}
	}
	return nil
}

func schemaType(t *testing.T, c mediaSchema) reflect.Type {
	t.Helper()
	if c.Schema.Ref == "" {
		// An inline schema: only /healthz has one; Health must carry its
		// members.
		typ := reflect.TypeFor[Health]()
		for p := range c.Schema.Properties {
			if !hasJSONField(typ, p) {
				t.Errorf("inline schema member %q is not in %v", p, typ)
			}
		}
		return typ
	}
	name := strings.TrimPrefix(c.Schema.Ref, "#/components/schemas/")
	typ, ok := schemaTypes[name]
	if !ok {
		t.Fatalf("schema %s has no Go type in schemaTypes", name)
	}
	return typ
}

func hasJSONField(t reflect.Type, name string) bool {
	for i := range t.NumField() {
		n, _, _ := strings.Cut(t.Field(i).Tag.Get("json"), ",")
		if n == name {
			return true
		}
	}
	return false
}

// TestMethodsCallTheirRoutes calls every method against a server that
// records the request, and checks the method and path are the document's.
func TestMethodsCallTheirRoutes(t *testing.T) {
	ops := documentOps(t)
	var mu sync.Mutex
	var got []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		got = append(got, r.Method+" "+r.URL.EscapedPath())
		mu.Unlock()
		w.Header().Set("Content-Type", "application/problem+json")
		w.WriteHeader(http.StatusTeapot)
		io.WriteString(w, `{"type":"about:blank","title":"I'm a teapot","status":418}`)
	}))
	t.Cleanup(srv.Close)
	c := newTestClient(t, srv.URL, Options{})
	for id, d := range ops {
		o, ok := operations[id]
		if !ok {
			continue
		}
		t.Run(id, func(t *testing.T) {
			mu.Lock()
			got = nil
			mu.Unlock()
			err := o.invoke(t.Context(), c)
			if err == nil || !strings.Contains(err.Error(), "teapot") {
				t.Fatalf("err = %v, want the server's 418", err)
			}
			mu.Lock()
			defer mu.Unlock()
			if len(got) != 1 {
				t.Fatalf("requests %v, want one", got)
			}
			re := routeRegexp(d.method, d.path)
			if !re.MatchString(got[0]) {
				t.Errorf("%s sent %s; the document says %s %s", o.method, got[0], d.method, d.path)
			}
		})
	}
}

// routeRegexp matches "METHOD /path" for a path template with {params}.
func routeRegexp(method, path string) *regexp.Regexp {
	var b strings.Builder
	b.WriteString("^" + method + " ")
	for i, part := range strings.Split(path, "/") {
		if i > 0 {
			b.WriteString("/")
		}
		if strings.HasPrefix(part, "{") && strings.HasSuffix(part, "}") {
			b.WriteString("[^/]+")
		} else {
			b.WriteString(regexp.QuoteMeta(part))
		}
	}
	b.WriteString("$")
	return regexp.MustCompile(b.String())
}
