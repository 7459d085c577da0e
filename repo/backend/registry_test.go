package backend_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"strata/repo/backend"
	"strata/repo/backend/mem"
)

// fakeScheme records the location it was asked to open.
func fakeScheme(name string, got *string) backend.Scheme {
	open := func(_ context.Context, location string, _ backend.Options) (backend.Storage, error) {
		*got = name + " " + location
		return mem.New(), nil
	}
	return backend.Scheme{Name: name, Open: open, Create: open}
}

func TestRegistryLookup(t *testing.T) {
	var got string
	reg, err := backend.NewRegistry(fakeScheme("local", &got), fakeScheme("s3", &got))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct{ url, want, err string }{
		{"/srv/backup", "local /srv/backup", ""},
		{"local:/srv/backup", "local /srv/backup", ""},
		{"relative/dir", "local relative/dir", ""},
		{"./a:b", "local ./a:b", ""},
		{"/a:b", "local /a:b", ""},
		{`C:\backup`, `local C:\backup`, ""},
		{"s3:https://127.0.0.1:9000/bucket/prefix", "s3 https://127.0.0.1:9000/bucket/prefix", ""},
		{"S3:https://host/bucket", "local S3:https://host/bucket", ""},
		{"s4:https://host/bucket", "", `unknown storage scheme "s4"`},
		{"backup:2026", "", `unknown storage scheme "backup"`},
		{"local:", "", "no location"},
		{"", "", "empty repository location"},
	}
	for _, tc := range tests {
		got = ""
		_, err := reg.Open(context.Background(), tc.url, backend.Options{})
		switch {
		case tc.err != "":
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("Open(%q): got error %v, want %q", tc.url, err, tc.err)
			}
		case err != nil:
			t.Errorf("Open(%q): %v", tc.url, err)
		case got != tc.want:
			t.Errorf("Open(%q) opened %q, want %q", tc.url, got, tc.want)
		}
	}
	if _, err := backend.NewRegistry(fakeScheme("s3", &got), fakeScheme("s3", &got)); err == nil {
		t.Error("NewRegistry accepted a scheme twice")
	}
	if _, err := backend.NewRegistry(fakeScheme("S3", &got)); err == nil {
		t.Error("NewRegistry accepted an uppercase scheme")
	}
}

func TestRedact(t *testing.T) {
	tests := []struct{ url, want string }{
		{"/srv/backup", "/srv/backup"},
		{"local:/srv/user:pw@x", "local:/srv/user:pw@x"},
		{"s3:https://host:9000/bucket", "s3:https://host:9000/bucket"},
		{"s3:https://AKIA:hunter2@host/bucket", "s3:https://AKIA:xxxxx@host/bucket"},
		{"s3:http://host/bucket?secret_key=hunter2&region=eu", "s3:http://host/bucket?region=eu&secret_key=xxxxx"},
		{"s3:https://host/b?X-Amz-Signature=hunter2", "s3:https://host/b?X-Amz-Signature=xxxxx"},
		{"s3:https://a:hunter2@host/%zz", "s3:(unparsable URL)"},
	}
	for _, tc := range tests {
		if got := backend.Redact(tc.url); got != tc.want {
			t.Errorf("Redact(%q) = %q, want %q", tc.url, got, tc.want)
		}
	}
}

func TestKindOf(t *testing.T) {
	tests := []struct {
		err  error
		want backend.Kind
	}{
		{backend.ErrNotExist, backend.Permanent},
		{backend.ErrExists, backend.Permanent},
		{backend.ErrFull, backend.Permanent},
		{backend.ErrReadOnly, backend.Permanent},
		{backend.ErrInvalid, backend.Permanent},
		{context.Canceled, backend.Permanent},
		{errors.New("connection reset"), backend.Transient},
		{context.DeadlineExceeded, backend.Transient},
		{backend.MarkThrottled(errors.New("SlowDown"), 0), backend.Throttled},
		{backend.MarkPermanent(errors.New("AccessDenied")), backend.Permanent},
		{backend.MarkTransient(backend.ErrNotExist), backend.Transient},
	}
	for _, tc := range tests {
		if got := backend.KindOf(tc.err); got != tc.want {
			t.Errorf("KindOf(%v) = %v, want %v", tc.err, got, tc.want)
		}
	}
}
