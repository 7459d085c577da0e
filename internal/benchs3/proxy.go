package main

import (
	"maps"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
)

// counts are requests to the bucket, by method (LIST for a GET of a
// listing) and by the repository folder they touch.
type counts struct {
	method map[string]int
	folder map[string]int
}

func (c counts) total() int {
	n := 0
	for _, v := range c.method {
		n += v
	}
	return n
}

// minus returns the requests of c that were not yet in before.
func (c counts) minus(before counts) counts {
	d := counts{method: maps.Clone(c.method), folder: maps.Clone(c.folder)}
	for k, v := range before.method {
		d.method[k] -= v
	}
	for k, v := range before.folder {
		d.folder[k] -= v
	}
	return d
}

// proxy is a reverse proxy in front of the S3 server that counts the
// requests going through it. S3 signs the Host header, and the proxy keeps
// the one the client sent (its own address), so signatures stay valid.
type proxy struct {
	l   net.Listener
	srv *http.Server

	mu sync.Mutex
	c  counts
}

func startProxy(endpoint string) (*proxy, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	p := &proxy{l: l, c: counts{method: map[string]int{}, folder: map[string]int{}}}
	rp := httputil.NewSingleHostReverseProxy(&url.URL{Scheme: "http", Host: endpoint})
	rp.Transport = &http.Transport{MaxIdleConnsPerHost: 64, DisableCompression: true}
	p.srv = &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p.count(r)
		rp.ServeHTTP(w, r)
	})}
	go p.srv.Serve(l)
	return p, nil
}

func (p *proxy) Addr() string { return p.l.Addr().String() }

func (p *proxy) Close() error { return p.srv.Close() }

// count files a request under its method and folder: for
// /bench/repo/data/ab/abcd... the folder is data; a listing names its
// folder in the prefix parameter.
func (p *proxy) count(r *http.Request) {
	method := r.Method
	path := strings.TrimPrefix(r.URL.Path, "/")
	_, key, _ := strings.Cut(path, "/") // drop the bucket
	if r.Method == http.MethodGet && (r.URL.Query().Has("list-type") || key == "") {
		method = "LIST"
		key = r.URL.Query().Get("prefix")
	}
	folder := "bucket"
	if parts := strings.Split(key, "/"); len(parts) >= 2 {
		folder = parts[1] // after the prefix "repo"
	}
	p.mu.Lock()
	p.c.method[method]++
	p.c.folder[folder]++
	p.mu.Unlock()
}

func (p *proxy) counts() counts {
	p.mu.Lock()
	defer p.mu.Unlock()
	return counts{method: maps.Clone(p.c.method), folder: maps.Clone(p.c.folder)}
}
