package ctl

import (
	"fmt"
	"io"
	"strings"

	"github.com/schollz/progressbar/v3"

	"github.com/kconnect/kconnect/runtime/herder"
)

// progressWidth is the bar's width in characters, narrow enough for a table cell.
const progressWidth = 20

// progressText renders kconnect's progress object as one line: the phase, a bar of the rows done
// against the estimate with their percentage and counts, and the tables done. Without an estimate
// (a table never analyzed) there is nothing to fill a bar against, so only the counts are shown.
// The text has no runs of two spaces, so it stays one cell of a table.
func progressText(p *herder.Progress) string {
	var parts []string
	if p.Phase != "" {
		parts = append(parts, p.Phase)
	}
	rows := fmt.Sprintf("%d rows", p.RowsDone)
	if p.RowsEstimated > 0 {
		// Estimates come from table statistics and can be low: the bar is then full while the
		// count goes on.
		bar := progressbar.NewOptions64(max(p.RowsEstimated, p.RowsDone),
			progressbar.OptionSetWriter(io.Discard),
			progressbar.OptionSetWidth(progressWidth),
			progressbar.OptionSetTheme(progressbar.ThemeASCII),
			progressbar.OptionShowCount(),
			progressbar.OptionSetPredictTime(false),
			progressbar.OptionSetElapsedTime(false),
			progressbar.OptionSetRenderBlankState(true))
		// Rendering to io.Discard cannot fail; the counts alone are the fallback all the same.
		if bar.Set64(p.RowsDone) == nil {
			rows = strings.TrimSpace(bar.String()) + " rows"
		}
	}
	parts = append(parts, rows)
	if p.TablesTotal > 0 {
		parts = append(parts, fmt.Sprintf("%d/%d tables", p.TablesDone, p.TablesTotal))
	}
	return strings.Join(parts, " ")
}

// InProgress reports whether the connector or any of its tasks reports progress.
func InProgress(c Connector) bool {
	if c.Status.Connector.Progress != nil {
		return true
	}
	for _, t := range c.Status.Tasks {
		if t.Progress != nil {
			return true
		}
	}
	return false
}
