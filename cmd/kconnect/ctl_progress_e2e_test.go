package main_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/kconnect/kconnect/internal/testenv"
	"github.com/kconnect/kconnect/internal/workertest"
	"github.com/kconnect/kconnect/runtime/herder"
)

// progressCell matches the progress of the snapshot of 2 tables and 20,100 estimated rows as ctl
// shows it: the phase, the percentage, a bar of 20 cells ('=' done, '>' its head, '.' to do),
// the rows and the tables.
var progressCell = regexp.MustCompile(`^snapshot (\d+)% \[(=*>?)(\.*)\] \((\d+)/20100\) rows (\d)/2 tables$`)

// checkProgressCell checks a progress cell against the progress the REST API gave: the same
// counts, the percentage rounded down and a bar filled in proportion (to a cell either way, the
// head counting as filled).
func checkProgressCell(t *testing.T, where, cell string, want *herder.Progress) {
	t.Helper()
	m := progressCell.FindStringSubmatch(cell)
	if m == nil {
		t.Errorf("%s: progress %q is not the bar of a 2-table, 20100-row snapshot", where, cell)
		return
	}
	pct, _ := strconv.ParseInt(m[1], 10, 64)
	done, _ := strconv.ParseInt(m[4], 10, 64)
	tables, _ := strconv.ParseInt(m[5], 10, 64)
	if done != want.RowsDone || tables != want.TablesDone || pct != want.RowsDone*100/20100 {
		t.Errorf("%s: progress %q, want %d%% of 20100 rows with %d rows and %d tables done",
			where, cell, want.RowsDone*100/20100, want.RowsDone, want.TablesDone)
	}
	filled, width := int64(len(m[2])), int64(len(m[2])+len(m[3]))
	if exact := want.RowsDone * 20 / 20100; width != 20 || filled < exact-1 || filled > exact+1 {
		t.Errorf("%s: bar %q has %d of %d cells filled, want 20 cells with about %d filled", where, cell, filled, width, exact)
	}
}

// TestCtlShowsSnapshotProgress creates a PostgreSQL CDC connector paused, so that its snapshot
// of 20,100 rows stops at a full queue, and checks what ctl shows of the progress the worker
// reports: a bar with the REST API's counts in `get connectors` and `describe connector`, the
// progress object as is in JSON, and `describe --watch` following the snapshot to its end after a
// resume. Once the snapshot is over the progress column is gone again.
func TestCtlShowsSnapshotProgress(t *testing.T) {
	dsn := testenv.PostgresDSN(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	for _, sql := range []string{
		`CREATE TABLE big (id bigint PRIMARY KEY, v text NOT NULL)`,
		`INSERT INTO big SELECT g, 'row ' || g FROM generate_series(1, 20000) g`,
		`CREATE TABLE small (id bigint PRIMARY KEY, v text NOT NULL)`,
		`INSERT INTO small SELECT g, 'row ' || g FROM generate_series(1, 100) g`,
		// ANALYZE samples up to 30,000 rows, so both estimates are exact: 20,100 rows in all.
		`ANALYZE big`, `ANALYZE small`,
	} {
		if _, err := conn.Exec(ctx, sql); err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
	}
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	pw, _ := u.User.Password()
	dbname := strings.TrimPrefix(u.Path, "/")

	dir := t.TempDir()
	w := workertest.Start(t, dir, workertest.WorkerProps(t, dir))
	const class = "io.debezium.connector.postgresql.PostgresConnector"
	code, body := w.Do(http.MethodPost, "/connectors", map[string]any{
		"name": "pg", "initial_state": "PAUSED",
		"config": map[string]string{
			"connector.class":   class,
			"database.hostname": u.Hostname(),
			"database.port":     u.Port(),
			"database.user":     u.User.Username(),
			"database.password": pw,
			"database.dbname":   dbname,
			"database.sslmode":  "disable",
			"topic.prefix":      testenv.Topic(t, "ctlpg"),
			"slot.name":         "kc_" + strings.ToLower(dbname),
			// A small queue holds the snapshot back while nothing polls it.
			"max.queue.size":      "1000",
			"max.batch.size":      "500",
			"snapshot.fetch.size": "1000",
		},
	})
	if code != http.StatusCreated {
		t.Fatalf("POST /connectors: %d %s", code, body)
	}

	// Paused, the task polls nothing, so the snapshot stops with some rows done: the progress is
	// settled once two reads a second apart agree.
	var st herder.ConnectorStatus
	var last herder.Progress
	w.WaitFor(120*time.Second, "the paused snapshot to stop at a full queue", func() bool {
		var ok bool
		st, ok = w.Status("pg")
		if !ok || st.Connector.State != herder.Paused || len(st.Tasks) != 1 || st.Tasks[0].State != herder.Paused ||
			st.Tasks[0].Progress == nil || st.Connector.Progress == nil {
			return false
		}
		p := *st.Tasks[0].Progress
		settled := p == last && p.RowsDone > 0
		last = p
		if !settled {
			time.Sleep(time.Second)
		}
		return settled
	})
	p := st.Tasks[0].Progress
	if want := (herder.Progress{Phase: "snapshot", TablesTotal: 2, RowsEstimated: 20100}); p.Phase != want.Phase ||
		p.TablesTotal != want.TablesTotal || p.RowsEstimated != want.RowsEstimated || p.RowsDone >= 20000 {
		t.Fatalf("task progress %+v, want %+v with some rows but not all done", *p, want)
	}
	if *st.Connector.Progress != *p {
		t.Fatalf("connector progress %+v, want its one task's %+v", *st.Connector.Progress, *p)
	}

	k := newCtl(t, w.URL)
	lines := strings.Split(strings.TrimSuffix(k.ok("get", "connectors"), "\n"), "\n")
	checkAligned(t, strings.Join(lines, "\n"))
	if len(lines) != 2 {
		t.Fatalf("get connectors printed %q, want a header and one row", lines)
	}
	header := spaceRun.Split(lines[0], -1)
	row := spaceRun.Split(lines[1], -1)
	if want := []string{"NAME", "TYPE", "STATE", "TASKS", "CLASS", "PROGRESS"}; !slices.Equal(header, want) || len(row) != len(want) ||
		!slices.Equal(row[:5], []string{"pg", "source", "PAUSED", "0/1", class}) {
		t.Fatalf("get connectors printed\n%s\nwant the paused pg row with its progress", strings.Join(lines, "\n"))
	}
	checkProgressCell(t, "get connectors", row[5], p)

	desc := k.ok("describe", "connector", "pg")
	checkAligned(t, desc)
	connProgress := regexp.MustCompile(`(?m)^Progress: +(.*)$`).FindStringSubmatch(desc)
	taskRows := regexp.MustCompile(`(?m)^Tasks:\n  (ID +STATE +WORKER ID +PROGRESS)\n  0 +PAUSED +(\S+) +(.*)$`).FindStringSubmatch(desc)
	if connProgress == nil || taskRows == nil || taskRows[2] != hostPort(t, w.URL) {
		t.Fatalf("describe connector pg shows no progress line or no task progress column:\n%s", desc)
	}
	checkProgressCell(t, "describe connector, connector", connProgress[1], st.Connector.Progress)
	checkProgressCell(t, "describe connector, task 0", taskRows[3], p)

	// JSON carries the progress object as the REST API gives it.
	var asJSON struct {
		Status struct {
			Connector struct {
				Progress map[string]any `json:"progress"`
			} `json:"connector"`
			Tasks []struct {
				Progress map[string]any `json:"progress"`
			} `json:"tasks"`
		} `json:"status"`
	}
	if err := json.Unmarshal([]byte(k.ok("describe", "connector", "pg", "-o", "json")), &asJSON); err != nil {
		t.Fatal(err)
	}
	wantJSON := map[string]any{"phase": "snapshot", "tables_done": float64(p.TablesDone), "tables_total": 2.0,
		"rows_done": float64(p.RowsDone), "rows_estimated": 20100.0}
	if got := asJSON.Status.Connector.Progress; fmt.Sprint(got) != fmt.Sprint(wantJSON) {
		t.Errorf("describe -o json: connector progress %v, want %v", got, wantJSON)
	}
	if len(asJSON.Status.Tasks) != 1 || fmt.Sprint(asJSON.Status.Tasks[0].Progress) != fmt.Sprint(wantJSON) {
		t.Errorf("describe -o json: tasks %+v, want one with progress %v", asJSON.Status.Tasks, wantJSON)
	}

	// Two watches, in JSON and as tables, follow the snapshot from the paused state to its end.
	watchJSON, jsonOut := startWatch(t, k, "-o", "json")
	watchTable, tableOut := startWatch(t, k)
	k.expectOut("connector pg resumed\n", "resume", "pg")
	for _, cmd := range []*exec.Cmd{watchJSON, watchTable} {
		waitExit(t, cmd, 180*time.Second)
	}

	var frames []herder.ConnectorStatus
	dec := json.NewDecoder(jsonOut)
	for {
		var f struct {
			Status herder.ConnectorStatus `json:"status"`
		}
		if err := dec.Decode(&f); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			t.Fatalf("describe --watch -o json: %v", err)
		}
		frames = append(frames, f.Status)
	}
	if len(frames) < 2 || frames[0].Connector.Progress == nil || frames[len(frames)-1].Connector.Progress != nil {
		t.Fatalf("describe --watch -o json gave %d descriptions, want the paused one with progress first and one without last", len(frames))
	}
	for i, f := range frames[:len(frames)-1] {
		if f.Connector.Progress == nil || i > 0 && f.Connector.Progress.RowsDone < frames[i-1].Connector.Progress.RowsDone {
			t.Errorf("describe --watch -o json, description %d: progress %+v after %+v; want progress that grows until the end",
				i, f.Connector.Progress, frames[max(i-1, 0)].Connector.Progress)
		}
	}
	if end := frames[len(frames)-1]; end.Connector.State != herder.Running || end.Tasks[0].Progress != nil {
		t.Errorf("describe --watch -o json ended at %+v, want the running connector without progress", end)
	}

	tables := strings.Split(tableOut.String(), "\nName:")
	first, end := tables[0], tables[len(tables)-1]
	if len(tables) < 2 || !strings.Contains(first, "\nProgress:") || strings.Contains(end, "\nProgress:") || strings.Contains(end, "PROGRESS") ||
		!regexp.MustCompile(`(?m)^Tasks:\n  ID +STATE +WORKER ID\n  0 +RUNNING `).MatchString(end) {
		t.Errorf("describe --watch printed %d descriptions, want the first with progress and the last, running, without:\n%s",
			len(tables), tableOut.String())
	}

	// --interval is for --watch only, and must be positive.
	for _, args := range [][]string{{"--interval", "1s"}, {"--watch", "--interval", "0s"}} {
		if _, errOut, code := k.run(append([]string{"describe", "connector", "pg"}, args...)...); code == 0 || !strings.Contains(errOut, "--interval") {
			t.Errorf("describe connector pg %s: exit %d, stderr %q; want a failure naming --interval", strings.Join(args, " "), code, errOut)
		}
	}

	// No progress, no column: upstream's table again.
	k.expectOut("NAME  TYPE    STATE    TASKS  CLASS\npg    source  RUNNING  1/1    "+class+"\n", "get", "connectors")
}

// startWatch starts `kconnect ctl describe connector pg --watch` with a short interval and the
// extra arguments, and returns it with the buffer its output goes to.
func startWatch(t *testing.T, k ctlRunner, extra ...string) (*exec.Cmd, *bytes.Buffer) {
	t.Helper()
	args := append([]string{"ctl", "--url", k.url, "describe", "connector", "pg", "--watch", "--interval", "100ms"}, extra...)
	cmd := exec.Command(k.bin, args...)
	cmd.Env = append(os.Environ(), "KCONNECT_CTL_CONFIG="+k.config)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
		}
	})
	return cmd, &out
}

// waitExit waits for cmd to exit with status 0, failing the test after timeout.
func waitExit(t *testing.T, cmd *exec.Cmd, timeout time.Duration) {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("%s: %v", strings.Join(cmd.Args, " "), err)
		}
	case <-time.After(timeout):
		_ = cmd.Process.Kill()
		<-done
		t.Fatalf("%s did not end within %s", strings.Join(cmd.Args, " "), timeout)
	}
}
