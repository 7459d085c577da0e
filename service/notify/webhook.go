package notify

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
)

// webhook posts an event as JSON: the event itself (type webhook), a
// Slack message (type slack) or a Discord message (type discord).
type webhook struct {
	base
	url     Secret
	headers map[string]Secret
	client  *http.Client
}

func (w *webhook) Send(ctx context.Context, e Event) error {
	u, err := w.url.Resolve(w.getenv)
	if err != nil {
		return &SendError{Err: fmt.Errorf("url: %w", err)}
	}
	var body []byte
	switch w.typ {
	case TypeSlack:
		body, err = json.Marshal(slackMessage(e))
	case TypeDiscord:
		body, err = json.Marshal(discordMessage(e))
	default:
		body, err = json.Marshal(e)
	}
	if err != nil {
		return &SendError{Err: err}
	}
	headers := map[string]string{}
	for k, s := range w.headers {
		v, err := s.Resolve(w.getenv)
		if err != nil {
			return &SendError{Err: fmt.Errorf("header %s: %w", k, err)}
		}
		headers[k] = v
	}
	return post(ctx, w.client, u, "application/json", body, headers)
}

// Slack's limits on an incoming webhook's Block Kit message: a header's
// text 150 characters, a section's 3000, a field's 2000, 10 fields.
const (
	slackHeaderMax  = 150
	slackSectionMax = 3000
	slackFieldMax   = 2000
	slackFieldsMax  = 10
)

// slackMessage is an incoming webhook's payload: "text" is what
// notifications and clients without blocks show; the blocks are a header,
// the message, the event's fields and the log's tail.
func slackMessage(e Event) map[string]any {
	text := e.Title() + ": " + e.message()
	blocks := []map[string]any{
		{"type": "header", "text": map[string]any{"type": "plain_text", "text": truncate(e.Title(), slackHeaderMax)}},
		{"type": "section", "text": map[string]any{"type": "mrkdwn", "text": truncate(slackEscape(e.message()), slackSectionMax)}},
	}
	if fs := e.fields(); len(fs) > 0 {
		var fields []map[string]any
		for _, f := range fs {
			if len(fields) == slackFieldsMax {
				break
			}
			fields = append(fields, map[string]any{"type": "mrkdwn", "text": truncate("*"+f[0]+"*\n"+slackEscape(f[1]), slackFieldMax)})
		}
		blocks = append(blocks, map[string]any{"type": "section", "fields": fields})
	}
	if e.Log != "" {
		log := tail(e.Log, slackSectionMax-8)
		blocks = append(blocks, map[string]any{"type": "section", "text": map[string]any{"type": "mrkdwn", "text": "```" + slackEscape(strings.ReplaceAll(log, "```", "'''")) + "```"}})
	}
	return map[string]any{"text": truncate(slackEscape(text), slackSectionMax), "blocks": blocks}
}

// slackEscape escapes the three characters Slack's mrkdwn reserves.
func slackEscape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(s)
}

// Discord's limits on a webhook message's embed: title 256 characters,
// description 4096, a field's name 256 and value 1024, 25 fields; content
// 2000.
const (
	discordTitleMax = 256
	discordDescMax  = 4096
	discordFieldMax = 1024
	discordContent  = 2000
)

// Embed colours by severity.
var severityColor = map[Severity]int{Info: 0x2e7d32, Warning: 0xf9a825, Critical: 0xc62828}

// discordMessage is a Discord webhook's payload: content for the
// notification, an embed with the details; mentions are turned off so a
// job named @everyone pings nobody.
func discordMessage(e Event) map[string]any {
	color := severityColor[e.Severity]
	if e.Kind == Recovered {
		color = severityColor[Info]
	}
	desc := e.message()
	if e.Log != "" {
		desc += "\n```\n" + tail(strings.ReplaceAll(e.Log, "```", "'''"), discordDescMax/2) + "\n```"
	}
	var fields []map[string]any
	for _, f := range e.fields() {
		fields = append(fields, map[string]any{"name": f[0], "value": truncate(f[1], discordFieldMax), "inline": len(f[1]) < 40})
	}
	embed := map[string]any{
		"title":       truncate(e.Title(), discordTitleMax),
		"description": truncate(desc, discordDescMax),
		"color":       color,
		"timestamp":   e.Time.UTC().Format("2006-01-02T15:04:05.000Z"),
		"fields":      fields,
	}
	return map[string]any{
		"username":         "strata",
		"content":          truncate(e.Title()+": "+e.message(), discordContent),
		"embeds":           []any{embed},
		"allowed_mentions": map[string]any{"parse": []string{}},
	}
}

// message is the event's message, with its error.
func (e Event) message() string {
	m := e.Message
	if e.Error != "" {
		if m != "" {
			m += ": "
		}
		m += e.Error
	}
	if m == "" {
		m = e.Kind.title()
	}
	return m
}
