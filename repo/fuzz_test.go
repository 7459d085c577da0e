package repo

import (
	"encoding/json"
	"testing"
	"time"

	"strata/pack"
	"strata/repo/crypto"
)

// Fuzz tests for the JSON decoders of stored files: none may panic, and
// what they accept must survive a round trip. Seeds live in
// testdata/fuzz/<name>/ and in f.Add below.

func FuzzDecodeConfig(f *testing.F) {
	cfg, err := DefaultConfig()
	if err != nil {
		f.Fatal(err)
	}
	b, _ := encodeConfig(cfg)
	f.Add(b)
	f.Add([]byte(`{"version":1}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := decodeConfig(data)
		if err != nil {
			return
		}
		if err := c.Validate(); err != nil {
			t.Fatalf("decodeConfig accepted an invalid config: %v", err)
		}
	})
}

func FuzzDecodeSnapshot(f *testing.F) {
	sn := &Snapshot{Time: time.Date(2025, 6, 17, 14, 0, 0, 0, time.UTC), Host: "h", Tags: []string{"a"}, Tree: pack.ID{1}, Paths: []string{"/x"}}
	b, _ := json.Marshal(sn)
	f.Add(b)
	f.Add([]byte(`{"tree":"00"}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		sn, err := DecodeSnapshot(data)
		if err != nil {
			return
		}
		again, err := json.Marshal(sn)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := DecodeSnapshot(again); err != nil {
			t.Fatalf("re-encoded snapshot does not decode: %v", err)
		}
	})
}

func FuzzDecodeKeyFile(f *testing.F) {
	f.Add([]byte(`{"created":"2026-01-01T00:00:00Z","kdf":"argon2id","params":{"time":1,"memory":64,"threads":1},"salt":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=","data":"AAAA"}`))
	// A key file with the copy of the config (docs/design.md, "Keys"),
	// sealed under a master key the fuzz body knows, so that mutations of
	// the copy reach the config decoder.
	master, err := crypto.NewRandomKey()
	if err != nil {
		f.Fatal(err)
	}
	cfg, err := DefaultConfig()
	if err != nil {
		f.Fatal(err)
	}
	plain, _ := encodeConfig(cfg)
	withCopy, _ := json.Marshal(&KeyFile{KDF: "argon2id", Params: crypto.KDFParams{Time: 1, Memory: 64, Threads: 1},
		Salt: make([]byte, 32), Data: []byte("AAAA"), Config: master.Seal(nil, plain)})
	f.Add(withCopy)
	f.Fuzz(func(t *testing.T, data []byte) {
		kf := &KeyFile{}
		if err := json.Unmarshal(data, kf); err != nil {
			return
		}
		if c, err := openConfig(master, kf.Config); err == nil {
			if err := c.Validate(); err != nil {
				t.Fatalf("the key file's copy of the config opened invalid: %v", err)
			}
		}
		// Opening runs Argon2id with the file's parameters; only cheap
		// ones are tried here, and the validation must hold for all.
		if err := kf.Params.Validate(); err != nil {
			return
		}
		if kf.Params.Time*kf.Params.Memory > 1<<12 {
			return
		}
		if _, err := kf.open("password"); err == nil {
			t.Fatal("a fuzzed key file opened")
		}
	})
}

func FuzzDecodeLock(f *testing.F) {
	f.Add([]byte(`{"time":"2026-01-01T00:00:00Z","lease":900,"exclusive":true,"hostname":"h","pid":1}`))
	f.Add([]byte(`{"time":"2026-01-01T00:00:00Z","lease":1e300,"exclusive":true,"hostname":"h","pid":1}`))
	f.Add([]byte(`{"time":"2026-01-01T00:00:00Z","lease":-900,"hostname":"h","pid":1}`))
	f.Add([]byte(`{"time":"2026-01-01T00:00:00Z","lease":900,"hostname":"h","pid":1,"boot_id":"b","pid_ns":"pid:[1]"}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		l, err := DecodeLock(data)
		if err != nil {
			return
		}
		if d := l.lease(); d < MinLockLease || d > MaxLockLease {
			t.Fatalf("decoded lease %v (%g s) is outside %v to %v", d, l.Lease, MinLockLease, MaxLockLease)
		}
		_, _ = l.staleReason(time.Now(), processHost{hostname: "h", bootID: "b", pidNS: "pid:[1]"})
		_ = l.String()
	})
}

func FuzzDecodeStoredPolicy(f *testing.F) {
	f.Add([]byte(`{"time":"2026-11-20T09:00:00Z","policy":{"daily":30},"timezone":"Europe/Berlin"}`))
	f.Add([]byte(`{"time":"2026-11-20T09:00:00Z","policy":null}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		sp, err := DecodeStoredPolicy(data)
		if err != nil {
			return
		}
		again, err := json.Marshal(sp)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := DecodeStoredPolicy(again); err != nil {
			t.Fatalf("re-encoded policy file does not decode: %v", err)
		}
	})
}

func FuzzDecodeProtection(f *testing.F) {
	p := Protection{Snapshot: pack.ID{1}, Time: time.Date(2026, 11, 22, 9, 0, 0, 0, time.UTC), Until: time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC), Reason: "billing", Host: "h"}
	b, _ := json.Marshal(p)
	f.Add(b)
	f.Add([]byte(`{"snapshot":"00","time":"2026-11-22T09:00:00Z"}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := DecodeProtection(data)
		if err != nil {
			return
		}
		_ = p.Active(time.Now())
		again, err := json.Marshal(p)
		if err != nil {
			t.Fatal(err)
		}
		q, err := DecodeProtection(again)
		if err != nil {
			t.Fatalf("re-encoded protection does not decode: %v", err)
		}
		if q.Snapshot != p.Snapshot || !q.Until.Equal(p.Until) {
			t.Fatalf("round trip changed the protection: %+v, then %+v", p, q)
		}
	})
}
