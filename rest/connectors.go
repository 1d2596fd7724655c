package rest

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/kconnect/kconnect/connect"
	"github.com/kconnect/kconnect/runtime/herder"
)

// expanded is one connector's entry in GET /connectors?expand=….
type expanded struct {
	Status *herder.ConnectorStatus `json:"status,omitempty"`
	Info   *herder.ConnectorInfo   `json:"info,omitempty"`
}

func (s *Server) listConnectors(w http.ResponseWriter, r *http.Request) {
	names, err := s.h.Connectors(r.Context())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	expansions, ok := r.URL.Query()["expand"]
	if !ok {
		writeJSON(w, http.StatusOK, nonNil(names))
		return
	}
	var wantStatus, wantInfo bool
	for _, e := range expansions {
		switch e {
		case "status":
			wantStatus = true
		case "info":
			wantInfo = true
		default:
			s.log.Info("Ignoring unknown expansion type", "expand", e)
		}
	}
	out := make(map[string]expanded, len(names))
	for _, name := range names {
		var e expanded
		if wantStatus {
			st, err := s.h.ConnectorStatus(r.Context(), name)
			if herder.IsNotFound(err) {
				// Deleted while we were listing; upstream leaves it out too.
				continue
			}
			if err != nil {
				s.fail(w, r, err)
				return
			}
			st.Tasks = nonNil(st.Tasks)
			e.Status = &st
		}
		if wantInfo {
			info, err := s.h.ConnectorInfo(r.Context(), name)
			if herder.IsNotFound(err) {
				continue
			}
			if err != nil {
				s.fail(w, r, err)
				return
			}
			info.Tasks = nonNil(info.Tasks)
			e.Info = &info
		}
		out[name] = e
	}
	writeJSON(w, http.StatusOK, out)
}

// targetStates maps the REST API's initial_state values to herder target states.
var targetStates = map[string]herder.TargetState{
	"RUNNING": herder.TargetStarted,
	"PAUSED":  herder.TargetPaused,
	"STOPPED": herder.TargetStopped,
}

func (s *Server) createConnector(w http.ResponseWriter, r *http.Request) {
	body, ok := readBody(w, r)
	if !ok {
		return
	}
	req, err := decodeObject(body)
	if err != nil {
		writeError(w, http.StatusBadRequest, jsonError(err))
		return
	}
	var name string
	if raw, ok := req["name"]; ok {
		n, err := scalarString(raw)
		if err != nil {
			writeError(w, http.StatusBadRequest, "Invalid value for field \"name\": "+err.Error())
			return
		}
		if n != nil {
			name = strings.TrimSpace(*n)
		}
	}
	rawConfig, ok := req["config"]
	if !ok || string(rawConfig) == "null" {
		writeError(w, http.StatusBadRequest, "Request body needs a \"config\" object with the connector configuration")
		return
	}
	cfg, msg := configMap(rawConfig)
	if msg != "" {
		writeError(w, http.StatusBadRequest, msg)
		return
	}
	initial := herder.TargetStarted
	if raw, ok := req["initial_state"]; ok {
		st, err := scalarString(raw)
		if err != nil {
			writeError(w, http.StatusBadRequest, "Invalid value for field \"initial_state\": "+err.Error())
			return
		}
		if st != nil {
			t, ok := targetStates[strings.ToUpper(*st)]
			if !ok {
				writeError(w, http.StatusBadRequest, fmt.Sprintf("Invalid initial_state %q: must be one of RUNNING, PAUSED, STOPPED", *st))
				return
			}
			initial = t
		}
	}
	if msg := checkName(name, cfg); msg != "" {
		writeError(w, http.StatusBadRequest, msg)
		return
	}
	if name == "" {
		writeError(w, http.StatusBadRequest, invalidConfigMessage([]string{"Invalid value  for configuration name: String may not be empty"}))
		return
	}
	props, msg := nonNullConfig(cfg)
	if msg != "" {
		writeError(w, http.StatusBadRequest, msg)
		return
	}
	info, err := s.h.CreateConnector(r.Context(), name, props, initial)
	if err != nil {
		s.failConfig(w, r, err)
		return
	}
	w.Header().Set("Location", location(r, name))
	writeJSON(w, http.StatusCreated, infoJSON(info))
}

// checkName enforces that a name inside the config equals the connector's name and otherwise
// adds it, as upstream's checkAndPutConnectorConfigName.
func checkName(name string, cfg map[string]*string) string {
	if included, ok := cfg["name"]; ok && included != nil {
		if *included != name {
			return fmt.Sprintf("Connector name configuration (%s) doesn't match connector name in the URL (%s)", *included, name)
		}
		return ""
	}
	cfg["name"] = &name
	return ""
}

// location is the absolute URL of a connector, for the Location header of a 201.
func location(r *http.Request, name string) string {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	u := url.URL{Scheme: scheme, Host: r.Host, Path: "/connectors/" + name}
	return u.String()
}

func infoJSON(info herder.ConnectorInfo) herder.ConnectorInfo {
	info.Tasks = nonNil(info.Tasks)
	if info.Config == nil {
		info.Config = map[string]string{}
	}
	return info
}

func (s *Server) getConnector(w http.ResponseWriter, r *http.Request) {
	info, err := s.h.ConnectorInfo(r.Context(), param(r, "connector"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, infoJSON(info))
}

func (s *Server) getConnectorConfig(w http.ResponseWriter, r *http.Request) {
	info, err := s.h.ConnectorInfo(r.Context(), param(r, "connector"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, infoJSON(info).Config)
}

func (s *Server) putConnectorConfig(w http.ResponseWriter, r *http.Request) {
	name := param(r, "connector")
	body, ok := readBody(w, r)
	if !ok {
		return
	}
	cfg, msg := configMap(body)
	if msg != "" {
		writeError(w, http.StatusBadRequest, msg)
		return
	}
	if msg := checkName(name, cfg); msg != "" {
		writeError(w, http.StatusBadRequest, msg)
		return
	}
	props, msg := nonNullConfig(cfg)
	if msg != "" {
		writeError(w, http.StatusBadRequest, msg)
		return
	}
	info, created, err := s.h.PutConnectorConfig(r.Context(), name, props)
	if err != nil {
		s.failConfig(w, r, err)
		return
	}
	if created {
		w.Header().Set("Location", location(r, name))
		writeJSON(w, http.StatusCreated, infoJSON(info))
		return
	}
	writeJSON(w, http.StatusOK, infoJSON(info))
}

func (s *Server) patchConnectorConfig(w http.ResponseWriter, r *http.Request) {
	body, ok := readBody(w, r)
	if !ok {
		return
	}
	patch, msg := configMap(body)
	if msg != "" {
		writeError(w, http.StatusBadRequest, msg)
		return
	}
	info, err := s.h.PatchConnectorConfig(r.Context(), param(r, "connector"), patch)
	if err != nil {
		s.failConfig(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, infoJSON(info))
}

func (s *Server) deleteConnector(w http.ResponseWriter, r *http.Request) {
	if err := s.h.DeleteConnector(r.Context(), param(r, "connector")); err != nil {
		s.fail(w, r, err)
		return
	}
	noContent(w, http.StatusNoContent)
}

func (s *Server) connectorStatus(w http.ResponseWriter, r *http.Request) {
	st, err := s.h.ConnectorStatus(r.Context(), param(r, "connector"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	st.Tasks = nonNil(st.Tasks)
	writeJSON(w, http.StatusOK, st)
}

// restartConnector restarts only the connector (204, no body) unless includeTasks or onlyFailed
// asks for more, which answers 202 with upstream's restart plan: the status at the time of the
// request, with the connector and tasks being restarted shown as RESTARTING.
func (s *Server) restartConnector(w http.ResponseWriter, r *http.Request) {
	name := param(r, "connector")
	includeTasks := boolParam(r, "includeTasks", false)
	onlyFailed := boolParam(r, "onlyFailed", false)
	if !includeTasks && !onlyFailed {
		if err := s.h.RestartConnector(r.Context(), name, false, false); err != nil {
			s.fail(w, r, err)
			return
		}
		noContent(w, http.StatusNoContent)
		return
	}
	st, err := s.h.ConnectorStatus(r.Context(), name)
	if herder.IsNotFound(err) {
		writeError(w, http.StatusNotFound, "Unknown connector: "+name)
		return
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if err := s.h.RestartConnector(r.Context(), name, includeTasks, onlyFailed); err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusAccepted, restartPlan(st, includeTasks, onlyFailed))
}

// restartPlan marks in st what a restart request restarts, by upstream's RestartRequest rules:
// the connector unless only failed instances are asked for and it did not fail, and the tasks
// when asked for, again only the failed ones with onlyFailed.
func restartPlan(st herder.ConnectorStatus, includeTasks, onlyFailed bool) herder.ConnectorStatus {
	if !onlyFailed || st.Connector.State == herder.Failed {
		st.Connector.State = herder.Restarting
	}
	st.Tasks = nonNil(st.Tasks)
	for i := range st.Tasks {
		if includeTasks && (!onlyFailed || st.Tasks[i].State == herder.Failed) {
			st.Tasks[i].State = herder.Restarting
		}
	}
	return st
}

func (s *Server) pauseConnector(w http.ResponseWriter, r *http.Request) {
	if err := s.h.PauseConnector(r.Context(), param(r, "connector")); err != nil {
		s.fail(w, r, err)
		return
	}
	noContent(w, http.StatusAccepted)
}

func (s *Server) resumeConnector(w http.ResponseWriter, r *http.Request) {
	if err := s.h.ResumeConnector(r.Context(), param(r, "connector")); err != nil {
		s.fail(w, r, err)
		return
	}
	noContent(w, http.StatusAccepted)
}

// stopConnector answers 204: upstream's stopConnector is a void JAX-RS method, unlike pause and
// resume, which return 202.
func (s *Server) stopConnector(w http.ResponseWriter, r *http.Request) {
	if err := s.h.StopConnector(r.Context(), param(r, "connector")); err != nil {
		s.fail(w, r, err)
		return
	}
	noContent(w, http.StatusNoContent)
}

func (s *Server) taskConfigs(w http.ResponseWriter, r *http.Request) {
	tasks, err := s.h.Tasks(r.Context(), param(r, "connector"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	for i := range tasks {
		if tasks[i].Config == nil {
			tasks[i].Config = map[string]string{}
		}
	}
	writeJSON(w, http.StatusOK, nonNil(tasks))
}

// taskID reads the task path parameter; like JAX-RS, a non-integer is 404 (it matches no
// resource), after which it has answered.
func taskID(w http.ResponseWriter, r *http.Request) (herder.TaskID, bool) {
	n, err := strconv.Atoi(param(r, "task"))
	if err != nil {
		writeError(w, http.StatusNotFound, msgNotFound)
		return herder.TaskID{}, false
	}
	return herder.TaskID{Connector: param(r, "connector"), Task: n}, true
}

func (s *Server) taskStatus(w http.ResponseWriter, r *http.Request) {
	id, ok := taskID(w, r)
	if !ok {
		return
	}
	st, err := s.h.TaskStatus(r.Context(), id)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, st)
}

func (s *Server) restartTask(w http.ResponseWriter, r *http.Request) {
	id, ok := taskID(w, r)
	if !ok {
		return
	}
	if err := s.h.RestartTask(r.Context(), id); err != nil {
		s.fail(w, r, err)
		return
	}
	noContent(w, http.StatusNoContent)
}

type activeTopics struct {
	Topics []string `json:"topics"`
}

func (s *Server) connectorTopics(w http.ResponseWriter, r *http.Request) {
	if s.cfg.DisableTopicTracking {
		writeError(w, http.StatusForbidden, "Topic tracking is disabled.")
		return
	}
	name := param(r, "connector")
	topics, err := s.h.ConnectorTopics(r.Context(), name)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]activeTopics{name: {Topics: nonNil(topics)}})
}

func (s *Server) resetConnectorTopics(w http.ResponseWriter, r *http.Request) {
	if s.cfg.DisableTopicTracking {
		writeError(w, http.StatusForbidden, "Topic tracking is disabled.")
		return
	}
	if s.cfg.DisableTopicTrackingReset {
		writeError(w, http.StatusForbidden, "Topic tracking reset is disabled.")
		return
	}
	if err := s.h.ResetConnectorTopics(r.Context(), param(r, "connector")); err != nil {
		s.fail(w, r, err)
		return
	}
	noContent(w, http.StatusAccepted)
}

type connectorOffsets struct {
	Offsets []herder.Offset `json:"offsets"`
}

type message struct {
	Message string `json:"message"`
}

func (s *Server) getOffsets(w http.ResponseWriter, r *http.Request) {
	offsets, err := s.h.Offsets(r.Context(), param(r, "connector"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, connectorOffsets{Offsets: nonNil(offsets)})
}

func (s *Server) alterOffsets(w http.ResponseWriter, r *http.Request) {
	body, ok := readBody(w, r)
	if !ok {
		return
	}
	offsets, msg := parseOffsets(body)
	if msg != "" {
		writeError(w, http.StatusBadRequest, msg)
		return
	}
	if len(offsets) == 0 {
		writeError(w, http.StatusBadRequest, "Partitions / offsets need to be provided for an alter offsets request")
		return
	}
	msg, err := s.h.AlterOffsets(r.Context(), param(r, "connector"), offsets)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, message{msg})
}

// parseOffsets decodes {"offsets":[{"partition":{…},"offset":{…}|null}]}, with numbers typed as
// the offset stores type them (connect.DecodeJSON); on failure it returns the error message.
func parseOffsets(body []byte) ([]herder.Offset, string) {
	v, err := connect.DecodeJSON(body)
	if err != nil {
		return nil, jsonError(err)
	}
	obj, ok := v.(map[string]any)
	if !ok {
		return nil, `Invalid JSON in request body: expected a JSON object with an "offsets" array`
	}
	list, ok := obj["offsets"].([]any)
	if !ok && obj["offsets"] != nil {
		return nil, `Invalid JSON in request body: "offsets" must be an array`
	}
	out := make([]herder.Offset, 0, len(list))
	for i, item := range list {
		entry, ok := item.(map[string]any)
		if !ok {
			return nil, fmt.Sprintf(`Invalid JSON in request body: offsets[%d] must be an object with "partition" and "offset"`, i)
		}
		partition, ok1 := entry["partition"].(map[string]any)
		offset, ok2 := entry["offset"].(map[string]any)
		if (!ok1 && entry["partition"] != nil) || (!ok2 && entry["offset"] != nil) {
			return nil, fmt.Sprintf("Invalid JSON in request body: offsets[%d]: partition and offset must be objects or null", i)
		}
		out = append(out, herder.Offset{Partition: partition, Offset: offset})
	}
	return out, ""
}

func (s *Server) resetOffsets(w http.ResponseWriter, r *http.Request) {
	msg, err := s.h.ResetOffsets(r.Context(), param(r, "connector"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, message{msg})
}

// nonNil makes a nil slice encode as [] as upstream's lists do, not null.
func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}
