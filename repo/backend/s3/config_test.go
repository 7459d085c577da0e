package s3_test

import (
	"strings"
	"testing"
	"time"

	"strata/repo/backend"
	"strata/repo/backend/s3"
)

func TestParseURL(t *testing.T) {
	cfg, err := s3.ParseURL("s3:https://s3.eu-central-1.amazonaws.com/acme-backups/db1/hourly?region=eu-central-1&storage-class=STANDARD&storage-class-data=STANDARD_IA&connections=16&stall-timeout=5m&connect-timeout=10s&addressing=virtual")
	if err != nil {
		t.Fatal(err)
	}
	want := s3.Config{
		Endpoint: "s3.eu-central-1.amazonaws.com", Secure: true, Bucket: "acme-backups", Prefix: "db1/hourly",
		Region: "eu-central-1", Addressing: "virtual", Connections: 16,
		ConnectTimeout: 10 * time.Second, StallTimeout: 5 * time.Minute, ConditionalPut: true,
	}
	if cfg.Endpoint != want.Endpoint || cfg.Secure != want.Secure || cfg.Bucket != want.Bucket || cfg.Prefix != want.Prefix ||
		cfg.Region != want.Region || cfg.Addressing != want.Addressing || cfg.Connections != want.Connections ||
		cfg.ConnectTimeout != want.ConnectTimeout || cfg.StallTimeout != want.StallTimeout || cfg.ConditionalPut != want.ConditionalPut {
		t.Errorf("ParseURL = %+v, want %+v", cfg, want)
	}
	if cfg.StorageClass[backend.PackFile] != "STANDARD_IA" || cfg.StorageClass[backend.IndexFile] != "STANDARD" || cfg.StorageClass[backend.ConfigFile] != "STANDARD" {
		t.Errorf("storage classes %v", cfg.StorageClass)
	}
	if got := cfg.String(); got != "s3:https://s3.eu-central-1.amazonaws.com/acme-backups/db1/hourly" {
		t.Errorf("String() = %s", got)
	}

	cfg, err = s3.ParseURL("s3:http://127.0.0.1:9000/bucket")
	if err != nil || cfg.Secure || cfg.Endpoint != "127.0.0.1:9000" || cfg.Bucket != "bucket" || cfg.Prefix != "" ||
		cfg.Connections != s3.DefaultConnections || cfg.StallTimeout != s3.DefaultStallTimeout || !cfg.ConditionalPut || cfg.Addressing != "auto" {
		t.Errorf("ParseURL of a bucket without prefix = %+v, %v", cfg, err)
	}
}

func TestParseURLRefuses(t *testing.T) {
	for _, tc := range []struct{ url, why string }{
		{"s3:ftp://host/bucket", "want s3:https://"},
		{"s3:https:///bucket", "no host"},
		{"s3:https://host", "no bucket"},
		{"s3:https://host/", "no bucket"},
		{"s3:https://host/bucket/a//b", "empty folder"},
		{"s3:https://AKIAKEY:supersecret@host/bucket", "credentials do not belong in the URL"},
		{"s3:https://host/bucket?secret_key=supersecret", "unknown option"},
		{"s3:https://host/bucket?connections=0", "want 1 to 1024"},
		{"s3:https://host/bucket?stall-timeout=-1s", "positive duration"},
		{"s3:https://host/bucket?addressing=dns", "want auto, path or virtual"},
		{"s3:https://host/bucket?storage-class-packs=X", "unknown file type"},
		{"s3:https://host/bucket?conditional-put=maybe", "conditional-put"},
	} {
		_, err := s3.ParseURL(tc.url)
		if err == nil || !strings.Contains(err.Error(), tc.why) {
			t.Errorf("ParseURL(%s): got %v, want an error saying %q", tc.url, err, tc.why)
		}
		if err != nil && strings.Contains(err.Error(), "supersecret") {
			t.Errorf("ParseURL(%s): the error shows the secret: %v", tc.url, err)
		}
	}
}
