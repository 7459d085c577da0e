package repair

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"path"
	"strconv"
	"strings"

	"strata/internal/progress"
	"strata/pack"
	"strata/repo"
)

// Meta keys and the tag that a repair writes (docs/design.md, "repair").
const (
	// MetaLost, on a node, says what the node lost; on a repaired
	// snapshot, it sums up what the snapshot lost.
	MetaLost = "lost"
	// MetaRepairedFrom, on a repaired snapshot, is the original's ID.
	MetaRepairedFrom = "repaired_from"
	// TagRepaired marks a repaired snapshot.
	TagRepaired = "repaired"
)

// maxListed bounds how many paths or keys a "lost" text names.
const maxListed = 5

// measure finds the plaintext lengths of the kept chunks that step 1 did
// not learn: from the index files, which keep them (the in-memory index
// does not), or, failing that, by loading the blob.
func (p *planner) measure(ctx context.Context) error {
	if len(p.needed) == 0 {
		return nil
	}
	p.progress(fmt.Sprintf("finding the lengths of %d kept chunks", len(p.needed)))
	err := p.r.EachIndexedBlob(ctx, func(_ pack.ID, b pack.Blob) error {
		if p.needed[b.ID] {
			p.sizes[b.ID] = b.RawLength
			delete(p.needed, b.ID)
		}
		return nil
	})
	if err != nil {
		return err
	}
	for id := range p.needed {
		plain, err := p.r.LoadBlob(ctx, id)
		if err != nil {
			return fmt.Errorf("measuring kept blob %s: %w", id.Short(), err)
		}
		p.sizes[id] = uint32(len(plain))
		delete(p.needed, id)
	}
	return nil
}

// finish builds the repaired tree of tp and its subtrees, computes their
// IDs, and queues them for saving, children first.
func (p *planner) finish(ctx context.Context, tp *treePlan) (pack.ID, error) {
	if tp.finished {
		return tp.newID, nil
	}
	t := &repo.Tree{Nodes: append([]repo.Node(nil), tp.tree.Nodes...)}
	for i, fix := range tp.fixes {
		n := &t.Nodes[i]
		switch {
		case fix.sub != nil:
			id, err := p.finish(ctx, fix.sub)
			if err != nil {
				return pack.ID{}, err
			}
			n.Subtree = &id
		case fix.lostTree:
			id, err := p.emptyTree()
			if err != nil {
				return pack.ID{}, err
			}
			fix.text = fmt.Sprintf("folder lost: tree blob %s cannot be loaded", n.Subtree.Short())
			n.Subtree = &id
			setLost(n, fix.text)
		default:
			if err := p.repairContent(ctx, n, fix); err != nil {
				return pack.ID{}, err
			}
		}
	}
	id, err := p.queue(t)
	if err != nil {
		return pack.ID{}, err
	}
	tp.finished, tp.newID = true, id
	return id, nil
}

// emptyTree returns the ID of the empty tree, queued once.
func (p *planner) emptyTree() (pack.ID, error) {
	if p.emptyID.IsNull() {
		id, err := p.queue(&repo.Tree{})
		if err != nil {
			return pack.ID{}, err
		}
		p.emptyID = id
	}
	return p.emptyID, nil
}

// queue computes the ID of t as SaveTree will store it, and keeps t to be
// saved.
func (p *planner) queue(t *repo.Tree) (pack.ID, error) {
	b, err := repo.EncodeTree(t)
	if err != nil {
		return pack.ID{}, err
	}
	p.newTrees = append(p.newTrees, t)
	return p.r.Key().BlobID(b), nil
}

// repairContent drops the lost chunks of node n and records the loss.
func (p *planner) repairContent(ctx context.Context, n *repo.Node, fix *nodeFix) error {
	lost := make(map[pack.ID]bool, len(fix.lost))
	for _, id := range fix.lost {
		lost[id] = true
	}
	var content []pack.ID
	var chunks []repo.ChunkInfo
	// A paged chunk list is written again as pages, kept chunk by kept
	// chunk; the pages are saved with the repaired trees.
	var pages *repo.PageWriter
	if n.Pages != nil {
		pages = repo.NewPageWriter(p.queuePage)
	}
	if fix.lostLog {
		n.Meta = maps.Clone(n.Meta)
		rows := rowsOf(n)
		n.Pages, n.Log, n.Size = nil, nil, 0
		lowerRows(n, rows)
		fix.text = fmt.Sprintf("change log lost: all %d rows", rows)
		return nil
	}
	var keptRows, keptBytes uint64
	w := repo.Walker{Loader: p.r,
		Chunk: func(_ string, _ *repo.Node, c repo.ChunkRef) error {
			if lost[c.ID] {
				return nil
			}
			keptRows += c.Info.Rows
			keptBytes += c.Info.Bytes
			if len(c.Patch) > 0 {
				// The kept chunks of a node with a change log are written
				// as they read, in new pages without a log.
				data, err := repo.LoadChunk(ctx, p.r, c)
				if err != nil {
					return err
				}
				if len(data) == 0 {
					return nil
				}
				p.newData = append(p.newData, data)
				return pages.Add(ctx, p.r.Key().BlobID(data), c.Info)
			}
			if pages != nil {
				return pages.Add(ctx, c.ID, c.Info)
			}
			content = append(content, c.ID)
			if c.HasInfo {
				chunks = append(chunks, c.Info)
			}
			return nil
		},
		PageError: func(id pack.ID, _ string, _ *repo.PageEntry, err error) error {
			if lost[id] {
				return nil
			}
			return err
		},
	}
	if err := w.WalkContent(ctx, n.Name, n); err != nil {
		return fmt.Errorf("reading the content of %s again: %w", n.Name, err)
	}
	n.Meta = maps.Clone(n.Meta)
	switch {
	case pages != nil:
		root, err := pages.Finish(ctx)
		if err != nil {
			return fmt.Errorf("writing the chunk list of %s: %w", n.Name, err)
		}
		hadLog := n.Log != nil
		n.Pages, n.Log = root, nil
		lostBytes := n.Size - min(keptBytes, n.Size)
		lostRows := fix.lostRows
		if fix.lostAll {
			lostRows = rowsOf(n)
		} else if hadLog {
			// The plan counted the lost chunks' base rows; the walk
			// counted the kept rows as they read.
			lostRows = rowsOf(n) - min(keptRows, rowsOf(n))
		}
		n.Size = keptBytes
		lowerRows(n, lostRows)
		fix.text = fmt.Sprintf("%d chunks missing", fix.lostChunks)
		if fix.lostAll {
			fix.text = "all chunks missing"
		}
		if fix.lostPages > 0 {
			fix.text += fmt.Sprintf(" (%d pages of the chunk list lost)", fix.lostPages)
		}
		fix.text += fmt.Sprintf(", %d rows, %s; first keys of the lost chunks: %s",
			lostRows, progress.Bytes(lostBytes), listedOf(fix.lostKeys, fix.lostChunks))
		content, chunks = nil, nil
	case fix.table:
		n.Size -= min(fix.lostBytes, n.Size)
		lowerRows(n, fix.lostRows)
		fix.text = fmt.Sprintf("%d of %d chunks missing, %d rows, %s; first keys of the lost chunks: %s",
			len(fix.lost), fix.total, fix.lostRows, progress.Bytes(fix.lostBytes), listedOf(fix.lostKeys, len(fix.lost)))
	default:
		var size uint64
		for _, id := range content {
			size += uint64(p.sizes[id])
		}
		fix.text = fmt.Sprintf("%d of %d chunks missing", len(fix.lost), fix.total)
		if n.Size >= size {
			fix.text += ", " + progress.Bytes(n.Size-size)
		}
		n.Size = size
	}
	n.Content, n.Chunks = content, chunks
	setLost(n, fix.text)
	return nil
}

// rowsOf returns the row count table node n records, 0 when none.
func rowsOf(n *repo.Node) uint64 {
	rows, _ := strconv.ParseUint(n.Meta[repo.TableMetaRows], 10, 64)
	return rows
}

// queuePage computes the ID of a page of a repaired chunk list as
// SaveBlob will store it, and keeps the page to be saved.
func (p *planner) queuePage(_ context.Context, page []byte) (pack.ID, error) {
	p.newPages = append(p.newPages, page)
	return p.r.Key().BlobID(page), nil
}

// lowerRows takes lost rows off the row counts a table node records: the
// decimal in Meta "rows" and the member "rows" of the table's JSON
// definition in Meta "table". A count that is not there is left alone.
func lowerRows(n *repo.Node, lost uint64) {
	if s, ok := n.Meta[repo.TableMetaRows]; ok {
		if rows, err := strconv.ParseUint(s, 10, 64); err == nil {
			n.Meta[repo.TableMetaRows] = strconv.FormatUint(rows-min(lost, rows), 10)
		}
	}
	def, ok := n.Meta[repo.TableMetaTable]
	if !ok {
		return
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal([]byte(def), &fields); err != nil {
		return
	}
	var rows uint64
	if err := json.Unmarshal(fields["rows"], &rows); err != nil {
		return
	}
	fields["rows"] = json.RawMessage(strconv.FormatUint(rows-min(lost, rows), 10))
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(fields); err != nil {
		return
	}
	n.Meta[repo.TableMetaTable] = strings.TrimSuffix(buf.String(), "\n")
}

// setLost records text in the node's Meta "lost", after what an earlier
// repair recorded there.
func setLost(n *repo.Node, text string) {
	n.Meta = maps.Clone(n.Meta)
	if n.Meta == nil {
		n.Meta = map[string]string{}
	}
	if prev := n.Meta[MetaLost]; prev != "" {
		text = prev + "; " + text
	}
	n.Meta[MetaLost] = text
}

// Loss is what one node of a snapshot lost.
type Loss struct {
	Path  string // the node's snapshot path
	Kind  string // the node's kind
	Text  string // as recorded in the node's Meta "lost"
	Blobs []pack.ID
}

// losses lists what the nodes below tp lost, with paths under dir.
func (tp *treePlan) losses(dir string, out []Loss) []Loss {
	for i, n := range tp.tree.Nodes {
		fix := tp.fixes[i]
		if fix == nil {
			continue
		}
		p := path.Join(dir, n.Name)
		switch {
		case fix.sub != nil:
			out = fix.sub.losses(p, out)
		case fix.lostTree:
			out = append(out, Loss{Path: p, Kind: n.Kind, Text: fix.text, Blobs: []pack.ID{*n.Subtree}})
		default:
			out = append(out, Loss{Path: p, Kind: n.Kind, Text: fix.text, Blobs: fix.lost})
		}
	}
	return out
}

// summary is a repaired snapshot's Meta "lost".
func summary(losses []Loss) string {
	items := make([]string, len(losses))
	for i, l := range losses {
		items[i] = fmt.Sprintf("%s (%s)", l.Path, l.Text)
	}
	s := "1 path lost data: "
	if len(losses) != 1 {
		s = fmt.Sprintf("%d paths lost data: ", len(losses))
	}
	return s + listed(items)
}

// listedOf is listed for the first items of total.
func listedOf(items []string, total int) string {
	s := strings.Join(items, ", ")
	if total > len(items) {
		s += fmt.Sprintf(" and %d more", total-len(items))
	}
	return s
}

// listed joins the first maxListed items with ", " and counts the rest.
func listed(items []string) string {
	if len(items) <= maxListed {
		return strings.Join(items, ", ")
	}
	return fmt.Sprintf("%s and %d more", strings.Join(items[:maxListed], ", "), len(items)-maxListed)
}
