package client

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"regexp"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

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
	"execStdinHogbox": {"WriteExecStdin", func(ctx context.Context, c *Client) error {
		return c.WriteExecStdin(ctx, testBox, "exe-1", strings.NewReader("x"), false)
	}},
	"execSignalHogbox": {"SignalExec", func(ctx context.Context, c *Client) error {
		return c.SignalExec(ctx, testBox, "exe-1", api.SignalRequest{Signal: "TERM"})
	}},
	"writeFileHogbox": {"WriteFile", func(ctx context.Context, c *Client) error {
		_, err := c.WriteFile(ctx, testBox, "/f", strings.NewReader("x"), WriteFileOptions{})
		return err
	}},
	"readFileHogbox": {"ReadFile", func(ctx context.Context, c *Client) error {
		_, err := c.ReadFile(ctx, testBox, "/f")
		return err
	}},
	"readArchiveHogbox": {"ReadArchive", func(ctx context.Context, c *Client) error {
		_, err := c.ReadArchive(ctx, testBox, "/d")
		return err
	}},
	"writeArchiveHogbox": {"WriteArchive", func(ctx context.Context, c *Client) error {
		_, err := c.WriteArchive(ctx, testBox, "/d", strings.NewReader(""), WriteArchiveOptions{})
		return err
	}},
	"ptyHogbox": {"Terminal", func(ctx context.Context, c *Client) error {
		_, err := c.Terminal(ctx, testBox, TerminalOptions{})
		return err
	}},
	"tunnelHogbox": {"Tunnel", func(ctx context.Context, c *Client) error {
		_, err := c.Tunnel(ctx, testBox, 8080)
		return err
	}},
	"proxyGet":     {"Proxy", proxy(http.MethodGet)},
	"proxyHead":    {"Proxy", proxy(http.MethodHead)},
	"proxyPost":    {"Proxy", proxy(http.MethodPost)},
	"proxyPut":     {"Proxy", proxy(http.MethodPut)},
	"proxyPatch":   {"Proxy", proxy(http.MethodPatch)},
	"proxyDelete":  {"Proxy", proxy(http.MethodDelete)},
	"proxyOptions": {"Proxy", proxy(http.MethodOptions)},
	"createPreviewToken": {"CreatePreviewToken", func(ctx context.Context, c *Client) error {
		_, err := c.CreatePreviewToken(ctx, testBox, api.CreatePreviewTokenRequest{Port: 8080})
		return err
	}},
	"listPreviewTokens": {"ListPreviewTokens", func(ctx context.Context, c *Client) error {
		_, err := c.ListPreviewTokens(ctx, testBox)
		return err
	}},
	"revokePreviewToken": {"RevokePreviewToken", func(ctx context.Context, c *Client) error {
		return c.RevokePreviewToken(ctx, testBox, "ptk-1")
	}},
	"listPrincipals": {"ListPrincipals", func(ctx context.Context, c *Client) error {
		_, err := c.ListPrincipals(ctx)
		return err
	}},
	"getPrincipal": {"GetPrincipal", func(ctx context.Context, c *Client) error {
		_, err := c.GetPrincipal(ctx, "prn-1")
		return err
	}},
	"updatePrincipal": {"UpdatePrincipal", func(ctx context.Context, c *Client) error {
		_, err := c.UpdatePrincipal(ctx, "prn-1", api.UpdatePrincipalRequest{})
		return err
	}},
	"listTokens": {"ListTokens", func(ctx context.Context, c *Client) error {
		_, err := c.ListTokens(ctx, "prn-1")
		return err
	}},
	"revokeToken": {"RevokeToken", func(ctx context.Context, c *Client) error {
		return c.RevokeToken(ctx, "prn-1", "tid-1")
	}},
	"createTrustMapping": {"CreateTrustMapping", func(ctx context.Context, c *Client) error {
		_, err := c.CreateTrustMapping(ctx, api.CreateTrustMappingRequest{Kind: api.TrustGitHub})
		return err
	}},
	"listTrustMappings": {"ListTrustMappings", func(ctx context.Context, c *Client) error {
		_, err := c.ListTrustMappings(ctx)
		return err
	}},
	"getTrustMapping": {"GetTrustMapping", func(ctx context.Context, c *Client) error {
		_, err := c.GetTrustMapping(ctx, "tm-1")
		return err
	}},
	"deleteTrustMapping": {"DeleteTrustMapping", func(ctx context.Context, c *Client) error {
		return c.DeleteTrustMapping(ctx, "tm-1")
	}},
	"listAudit": {"ListAudit", func(ctx context.Context, c *Client) error {
		_, err := c.ListAudit(ctx, AuditOptions{Box: testBox, Since: time.Now()})
		return err
	}},
	"snapshotHogbox": {"SnapshotBox", func(ctx context.Context, c *Client) error {
		_, err := c.SnapshotBox(ctx, testBox)
		return err
	}},
	"listSnapshots": {"ListSnapshots", func(ctx context.Context, c *Client) error {
		_, err := c.ListSnapshots(ctx, ListSnapshotsOptions{Alias: "base"})
		return err
	}},
	"getSnapshot": {"GetSnapshot", func(ctx context.Context, c *Client) error {
		_, err := c.GetSnapshot(ctx, testSnap)
		return err
	}},
	"deleteSnapshot": {"DeleteSnapshot", func(ctx context.Context, c *Client) error { return c.DeleteSnapshot(ctx, testSnap) }},
	"setSnapshotAlias": {"SetSnapshotAlias", func(ctx context.Context, c *Client) error {
		_, err := c.SetSnapshotAlias(ctx, testSnap, "base")
		return err
	}},
	"deleteSnapshotAlias": {"DeleteSnapshotAlias", func(ctx context.Context, c *Client) error {
		return c.DeleteSnapshotAlias(ctx, testSnap, "base")
	}},
	"listSnapshotAliases": {"ListSnapshotAliases", func(ctx context.Context, c *Client) error {
		_, err := c.ListSnapshotAliases(ctx)
		return err
	}},
	"createDevbox": {"CreateDevbox", func(ctx context.Context, c *Client) error {
		_, err := c.CreateDevbox(ctx, api.CreateDevboxRequest{Name: "dev"})
		return err
	}},
	"listDevboxes": {"ListDevboxes", func(ctx context.Context, c *Client) error {
		_, err := c.ListDevboxes(ctx, 0, "")
		return err
	}},
	"getDevbox": {"GetDevbox", func(ctx context.Context, c *Client) error {
		_, err := c.GetDevbox(ctx, "dev")
		return err
	}},
	"updateDevbox": {"UpdateDevbox", func(ctx context.Context, c *Client) error {
		_, err := c.UpdateDevbox(ctx, "dev", api.UpdateDevboxRequest{})
		return err
	}},
	"deleteDevbox": {"DeleteDevbox", func(ctx context.Context, c *Client) error { return c.DeleteDevbox(ctx, "dev") }},
	"startDevbox": {"StartDevbox", func(ctx context.Context, c *Client) error {
		_, err := c.StartDevbox(ctx, "dev")
		return err
	}},
	"stopDevbox": {"StopDevbox", func(ctx context.Context, c *Client) error {
		_, err := c.StopDevbox(ctx, "dev")
		return err
	}},
	"listDevboxEvents": {"DevboxEvents", func(ctx context.Context, c *Client) error {
		_, err := c.DevboxEvents(ctx, "dev", 0)
		return err
	}},
	"execDevbox": {"ExecDevbox", func(ctx context.Context, c *Client) error {
		_, err := c.ExecDevbox(ctx, "dev", api.ExecRequest{Argv: []string{"true"}})
		return err
	}},
	"proxyDevboxGet":     {"DevboxProxy", devboxProxy(http.MethodGet)},
	"proxyDevboxHead":    {"DevboxProxy", devboxProxy(http.MethodHead)},
	"proxyDevboxPost":    {"DevboxProxy", devboxProxy(http.MethodPost)},
	"proxyDevboxPut":     {"DevboxProxy", devboxProxy(http.MethodPut)},
	"proxyDevboxPatch":   {"DevboxProxy", devboxProxy(http.MethodPatch)},
	"proxyDevboxDelete":  {"DevboxProxy", devboxProxy(http.MethodDelete)},
	"proxyDevboxOptions": {"DevboxProxy", devboxProxy(http.MethodOptions)},
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

const testSnap = "snap-0123456789ab"

// proxy calls Proxy with method; an answer other than a success is an
// error, as for the other methods.
func proxy(method string) func(ctx context.Context, c *Client) error {
	return proxyCall(method, func(ctx context.Context, c *Client, req *http.Request) (*http.Response, error) {
		return c.Proxy(ctx, testBox, 8080, req)
	})
}

// devboxProxy calls DevboxProxy with method.
func devboxProxy(method string) func(ctx context.Context, c *Client) error {
	return proxyCall(method, func(ctx context.Context, c *Client, req *http.Request) (*http.Response, error) {
		return c.DevboxProxy(ctx, "dev", 8080, req)
	})
}

func proxyCall(method string, send func(context.Context, *Client, *http.Request) (*http.Response, error)) func(ctx context.Context, c *Client) error {
	return func(ctx context.Context, c *Client) error {
		req, err := http.NewRequest(method, "/index.html?a=1", nil)
		if err != nil {
			return err
		}
		resp, err := send(ctx, c, req)
		if err != nil {
			return err
		}
		resp.Body.Close()
		if resp.StatusCode/100 != 2 {
			return errors.New(resp.Status)
		}
		return nil
	}
}

// schemaTypes maps the document's schemas to the Go types of package api
// (or of this package) that the client sends and decodes.
var schemaTypes = map[string]reflect.Type{
	"Me":                        reflect.TypeFor[api.Me](),
	"Limits":                    reflect.TypeFor[api.Limits](),
	"Hogbox":                    reflect.TypeFor[api.Box](),
	"HogboxList":                reflect.TypeFor[api.BoxList](),
	"CreateHogboxRequest":       reflect.TypeFor[api.CreateBoxRequest](),
	"UpdateHogboxRequest":       reflect.TypeFor[api.UpdateBoxRequest](),
	"BoxEventList":              reflect.TypeFor[api.BoxEventList](),
	"ExecRequest":               reflect.TypeFor[api.ExecRequest](),
	"SignalRequest":             reflect.TypeFor[api.SignalRequest](),
	"ExecResult":                reflect.TypeFor[api.ExecResult](),
	"FileInfo":                  reflect.TypeFor[api.FileInfo](),
	"CreatePrincipalRequest":    reflect.TypeFor[api.CreatePrincipalRequest](),
	"Principal":                 reflect.TypeFor[api.Principal](),
	"CreateTokenRequest":        reflect.TypeFor[api.CreateTokenRequest](),
	"Token":                     reflect.TypeFor[api.Token](),
	"ArchiveInfo":               reflect.TypeFor[api.ArchiveInfo](),
	"PTYMessage":                reflect.TypeFor[*Terminal](),
	"TunnelMessage":             reflect.TypeFor[*TunnelConn](),
	"CreatePreviewTokenRequest": reflect.TypeFor[api.CreatePreviewTokenRequest](),
	"PreviewToken":              reflect.TypeFor[api.PreviewToken](),
	"PreviewTokenList":          reflect.TypeFor[api.PreviewTokenList](),
	"PrincipalList":             reflect.TypeFor[api.PrincipalList](),
	"PrincipalDetail":           reflect.TypeFor[api.PrincipalDetail](),
	"UpdatePrincipalRequest":    reflect.TypeFor[api.UpdatePrincipalRequest](),
	"TokenList":                 reflect.TypeFor[api.TokenList](),
	"CreateTrustMappingRequest": reflect.TypeFor[api.CreateTrustMappingRequest](),
	"TrustMapping":              reflect.TypeFor[api.TrustMapping](),
	"TrustMappingList":          reflect.TypeFor[api.TrustMappingList](),
	"AuditList":                 reflect.TypeFor[api.AuditList](),
	"Snapshot":                  reflect.TypeFor[api.Snapshot](),
	"SnapshotList":              reflect.TypeFor[api.SnapshotList](),
	"SnapshotAlias":             reflect.TypeFor[api.SnapshotAlias](),
	"SnapshotAliasList":         reflect.TypeFor[api.SnapshotAliasList](),
	"CreateDevboxRequest":       reflect.TypeFor[api.CreateDevboxRequest](),
	"UpdateDevboxRequest":       reflect.TypeFor[api.UpdateDevboxRequest](),
	"Devbox":                    reflect.TypeFor[api.Devbox](),
	"DevboxList":                reflect.TypeFor[api.DevboxList](),
	"DevboxEventList":           reflect.TypeFor[api.DevboxEventList](),
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
	Responses map[string]response `yaml:"responses"`
}

type response struct {
	Ref     string                 `yaml:"$ref"`
	Content map[string]mediaSchema `yaml:"content"`
}

type docOp struct {
	method, path string
	op           operation
}

// documentOps lists the operations of api/openapi.yaml.
func documentOps(t testing.TB) map[string]docOp {
	t.Helper()
	var d struct {
		Paths      map[string]map[string]yaml.Node `yaml:"paths"`
		Components struct {
			Responses map[string]response `yaml:"responses"`
		} `yaml:"components"`
	}
	if err := yaml.Unmarshal(api.OpenAPI, &d); err != nil {
		t.Fatalf("parse openapi.yaml: %v", err)
	}
	ops := map[string]docOp{}
	for path, methods := range d.Paths {
		for method, node := range methods {
			switch method {
			case "get", "put", "post", "patch", "delete", "head", "options":
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
			for code, r := range op.Responses {
				if name, ok := strings.CutPrefix(r.Ref, "#/components/responses/"); ok {
					op.Responses[code] = d.Components.Responses[name]
				}
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
		case "application/octet-stream", "application/x-tar":
			return reflect.TypeFor[io.Reader]()
		default:
			t.Fatalf("request media type %s has no Go type in this test", mt)
		}
	}
	return nil
}

// responseType is the Go type a method returns for the success answer:
// the JSON body when there is one, else the stream or bytes; for a
// WebSocket (101) the type its messages map to; for a proxied answer the
// response itself.
func responseType(t *testing.T, op operation) reflect.Type {
	media := map[string]mediaSchema{}
	if _, ok := op.Responses["101"]; ok {
		return schemaType(t, op.Responses["101"].Content["application/json"])
	}
	if d, ok := op.Responses["default"]; ok && len(op.Responses) == 1 {
		if _, ok := d.Content["*/*"]; ok {
			return reflect.TypeFor[*http.Response]()
		}
	}
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
		case "application/octet-stream", "application/x-tar":
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
