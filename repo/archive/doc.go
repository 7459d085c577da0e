// Package archive saves files, folders and streams into a repository as
// trees of nodes whose content is chunked into data blobs, and records the
// snapshot. It sits above repo and chunk; table export (dbexport) reuses
// its chunk pipeline.
//
// Words: archiver, source, node, content (the ordered data blob IDs of a
// file or stream), parent snapshot, summary.
package archive
