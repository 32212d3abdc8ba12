package api

import _ "embed"

// OpenAPI is the OpenAPI 3.1 document of the /v1 API (openapi.yaml).
//
//go:embed openapi.yaml
var OpenAPI []byte
