// Package ctl is a client for the Kafka Connect REST API, kconnect's or Apache Kafka Connect's,
// and the rendering of its answers as tables, JSON or YAML; cmd/kconnect wires it into the
// `kconnect ctl` commands.
package ctl

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"time"

	"github.com/kconnect/kconnect/connect"
	"github.com/kconnect/kconnect/runtime/herder"
)

// Client talks to one Kafka Connect cluster through its REST API.
type Client struct {
	// BaseURL is the REST listener, such as http://localhost:8083.
	BaseURL string
	// Username and Password are sent as HTTP basic authentication when Username is set.
	Username, Password string
	// HTTP is the client requests go through; nil means one with a 30 s timeout.
	HTTP *http.Client
}

// APIError is an error answer of the REST API: its status and upstream's {"error_code","message"}.
type APIError struct {
	Method, Path string
	Status       int
	Message      string
}

func (e *APIError) Error() string {
	return fmt.Sprintf("%s %s: %d %s", e.Method, e.Path, e.Status, e.Message)
}

// IsNotFound reports whether err is or wraps an API answer with status 404.
func IsNotFound(err error) bool {
	var e *APIError
	return errors.As(err, &e) && e.Status == http.StatusNotFound
}

// Connector is one connector's config, tasks and status, as GET /connectors?expand=info&expand=status
// gives it.
type Connector struct {
	Info   herder.ConnectorInfo   `json:"info"`
	Status herder.ConnectorStatus `json:"status"`
}

// offsetsBody is the body of GET and PATCH /connectors/{c}/offsets.
type offsetsBody struct {
	Offsets []herder.Offset `json:"offsets"`
}

// messageBody is the answer of the offsets endpoints that change something.
type messageBody struct {
	Message string `json:"message"`
}

// do sends a request with a JSON body (when body is not nil) and decodes a JSON answer into out
// (when out is not nil and the answer has a body). Any status of 300 or more is an *APIError.
func (c *Client) do(ctx context.Context, method, path string, body, out any) error {
	_, err := c.send(ctx, method, path, body, out)
	return err
}

// send is do that also returns the answer's status.
func (c *Client) send(ctx context.Context, method, path string, body, out any) (int, error) {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return 0, fmt.Errorf("%s %s: encode body: %w", method, path, err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, strings.TrimRight(c.BaseURL, "/")+path, rd)
	if err != nil {
		return 0, fmt.Errorf("%s %s: %w", method, path, err)
	}
	req.Header.Set("Accept", "application/json")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.Username != "" {
		req.SetBasicAuth(c.Username, c.Password)
	}
	hc := c.HTTP
	if hc == nil {
		hc = &http.Client{Timeout: 30 * time.Second}
	}
	resp, err := hc.Do(req)
	if err != nil {
		return 0, fmt.Errorf("%s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return 0, fmt.Errorf("%s %s: read answer: %w", method, path, err)
	}
	if resp.StatusCode >= 300 {
		var e struct {
			Message string `json:"message"`
		}
		msg := strings.TrimSpace(string(data))
		if json.Unmarshal(data, &e) == nil && e.Message != "" {
			msg = e.Message
		}
		return resp.StatusCode, &APIError{Method: method, Path: path, Status: resp.StatusCode, Message: msg}
	}
	if out == nil || len(bytes.TrimSpace(data)) == 0 {
		return resp.StatusCode, nil
	}
	if err := json.Unmarshal(data, out); err != nil {
		return resp.StatusCode, fmt.Errorf("%s %s: decode answer: %w", method, path, err)
	}
	return resp.StatusCode, nil
}

func connectorPath(name string, rest ...string) string {
	return "/connectors/" + url.PathEscape(name) + strings.Join(rest, "")
}

// ConnectorNames lists the connectors' names, sorted.
func (c *Client) ConnectorNames(ctx context.Context) ([]string, error) {
	var names []string
	if err := c.do(ctx, http.MethodGet, "/connectors", nil, &names); err != nil {
		return nil, err
	}
	sort.Strings(names)
	return names, nil
}

// Connectors returns every connector with its config and status, sorted by name.
func (c *Client) Connectors(ctx context.Context) ([]Connector, error) {
	var m map[string]Connector
	if err := c.do(ctx, http.MethodGet, "/connectors?expand=info&expand=status", nil, &m); err != nil {
		return nil, err
	}
	out := make([]Connector, 0, len(m))
	for _, name := range connect.SortedKeys(m) {
		out = append(out, m[name])
	}
	return out, nil
}

// Connector returns one connector's config, tasks and status.
func (c *Client) Connector(ctx context.Context, name string) (Connector, error) {
	var d Connector
	if err := c.do(ctx, http.MethodGet, connectorPath(name), nil, &d.Info); err != nil {
		return d, err
	}
	err := c.do(ctx, http.MethodGet, connectorPath(name, "/status"), nil, &d.Status)
	return d, err
}

// Plugins lists the installed plugins: the connectors only, or every kind when all is set.
func (c *Client) Plugins(ctx context.Context, all bool) ([]herder.PluginInfo, error) {
	var ps []herder.PluginInfo
	err := c.do(ctx, http.MethodGet, fmt.Sprintf("/connector-plugins?connectorsOnly=%t", !all), nil, &ps)
	return ps, err
}

// Offsets returns a connector's committed offsets.
func (c *Client) Offsets(ctx context.Context, name string) ([]herder.Offset, error) {
	var b offsetsBody
	err := c.do(ctx, http.MethodGet, connectorPath(name, "/offsets"), nil, &b)
	return b.Offsets, err
}

// AlterOffsets changes the offsets of a stopped connector and returns the worker's message.
func (c *Client) AlterOffsets(ctx context.Context, name string, offsets []herder.Offset) (string, error) {
	var m messageBody
	err := c.do(ctx, http.MethodPatch, connectorPath(name, "/offsets"), offsetsBody{Offsets: offsets}, &m)
	return m.Message, err
}

// Validate validates a connector config against the plugin class it names.
func (c *Client) Validate(ctx context.Context, class string, config map[string]string) (herder.ConfigInfos, error) {
	var infos herder.ConfigInfos
	err := c.do(ctx, http.MethodPut, "/connector-plugins/"+url.PathEscape(class)+"/config/validate", config, &infos)
	return infos, err
}

// PutConfig creates or replaces a connector's config and reports whether it created it.
func (c *Client) PutConfig(ctx context.Context, name string, config map[string]string) (created bool, err error) {
	status, err := c.send(ctx, http.MethodPut, connectorPath(name, "/config"), config, nil)
	return status == http.StatusCreated, err
}

// Pause pauses a connector and its tasks.
func (c *Client) Pause(ctx context.Context, name string) error {
	return c.do(ctx, http.MethodPut, connectorPath(name, "/pause"), nil, nil)
}

// Resume resumes a paused or stopped connector.
func (c *Client) Resume(ctx context.Context, name string) error {
	return c.do(ctx, http.MethodPut, connectorPath(name, "/resume"), nil, nil)
}

// Stop stops a connector, keeping its config, so that its offsets can be changed.
func (c *Client) Stop(ctx context.Context, name string) error {
	return c.do(ctx, http.MethodPut, connectorPath(name, "/stop"), nil, nil)
}

// Restart restarts a connector and, when includeTasks is set, its tasks (only the failed ones
// with onlyFailed).
func (c *Client) Restart(ctx context.Context, name string, includeTasks, onlyFailed bool) error {
	q := fmt.Sprintf("/restart?includeTasks=%t&onlyFailed=%t", includeTasks, onlyFailed)
	return c.do(ctx, http.MethodPost, connectorPath(name, q), nil, nil)
}

// Delete deletes a connector.
func (c *Client) Delete(ctx context.Context, name string) error {
	return c.do(ctx, http.MethodDelete, connectorPath(name), nil, nil)
}
