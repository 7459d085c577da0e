// Package local is the backend.Storage for a repository in a folder of the
// local file system (a disk, a mounted drive or network share). The layout
// is docs/design.md, "Layout on disk"; the write procedure is "Storage
// backends", "The local backend".
//
// Layer: a leaf under repo/backend; it imports only package backend and the
// standard library.
//
// Words: repository folder (the dir given to Open or Create), type folder
// (keys/, data/, ...), pack folder (data/<2 hex>/), temporary file
// (.tmp-<random>, never a repository file), final name (where a file lives
// once saved), commit (giving a temporary file its final name).
package local
