package workflow_test

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"strata/repo"
	"strata/repo/backend/registry"
	"strata/repo/repotest"
	"strata/workflow"
)

func TestOpen(t *testing.T) {
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "repo")
	req := workflow.OpenRequest{URL: "local:" + dir, Password: repotest.Password}
	be, err := registry.Create(ctx, req.URL, req.StorageOptions())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := repo.Init(ctx, be, repotest.Password, repotest.Config(t), repotest.Options(t)); err != nil {
		t.Fatal(err)
	}

	for _, url := range []string{"local:" + dir, dir} {
		req.URL = url
		r, err := workflow.Open(ctx, req)
		if err != nil {
			t.Fatalf("Open(%s): %v", url, err)
		}
		if _, err := workflow.Backup(ctx, r, workflow.BackupRequest{Stdin: strings.NewReader("x\n")}); err != nil {
			t.Fatalf("Backup into %s: %v", url, err)
		}
	}

	req.URL = dir
	req.Password = "wrong"
	if _, err := workflow.Open(ctx, req); !errors.Is(err, repo.ErrWrongPassword) {
		t.Errorf("Open with a wrong password: %v, want repo.ErrWrongPassword", err)
	}
	req.Password = ""
	req.PasswordFunc = func() (string, error) { return repotest.Password, nil }
	if _, err := workflow.Open(ctx, req); err != nil {
		t.Errorf("Open with PasswordFunc: %v", err)
	}

	req.URL = filepath.Join(t.TempDir(), "none")
	if _, err := workflow.Open(ctx, req); !errors.Is(err, repo.ErrNoRepository) {
		t.Errorf("Open of a missing repository: %v, want repo.ErrNoRepository", err)
	}
	req.URL = "s4:https://host/bucket"
	if _, err := workflow.Open(ctx, req); err == nil || !strings.Contains(err.Error(), `unknown storage scheme "s4"`) {
		t.Errorf("Open of an unknown scheme: %v, want it named", err)
	}
}
