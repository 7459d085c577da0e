package repair

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"slices"

	"golang.org/x/sync/errgroup"

	"strata/index"
	"strata/pack"
	"strata/repo"
	"strata/repo/backend"
	"strata/repo/crypto"
)

// PacksOptions tune Packs.
type PacksOptions struct {
	// Packs are the packs to repair. Empty means the packs that the index
	// names but storage lacks, and with ReadData every indexed pack whose
	// bytes do not hash to its name as well.
	Packs []pack.ID
	// ReadData reads every indexed pack whole to find the damaged ones,
	// when Packs is empty.
	ReadData bool
	// DryRun reads and verifies, and writes and removes nothing.
	DryRun bool
	// Workers is how many packs are read at once; 0 means GOMAXPROCS.
	Workers int
	// MaxFileBlobs bounds the entries of one new index file; 0 means
	// DefaultMaxFileBlobs.
	MaxFileBlobs int
	// Progress, when set, receives a line for each step.
	Progress func(msg string)
}

// PacksReport tells what Packs did.
type PacksReport struct {
	PacksRead int          // packs read to find the damaged ones
	Repaired  []PackRepair // the damaged packs, sorted by ID
	NewPacks  int          // packs written with the salvaged blobs
	Intact    []pack.ID    // packs named in PacksOptions.Packs that are intact
	// TreeCopies is how many copies of tree blobs were written (or would
	// be, in a dry run) beyond one per salvaged blob, so that each tree
	// has repo.TreeCopies intact copies again: trees whose other copy was
	// in a damaged pack, and trees an older strata stored once.
	TreeCopies int
	// Uncopied are tree blobs that lack copies but of which no copy
	// outside the damaged packs could be read: lost with those packs (and
	// then in Repaired), or damaged where nothing named it damaged.
	Uncopied []pack.ID
	// BrokenDeltas are delta blobs, in packs that are not damaged, whose
	// chain of bases led to a blob lost with a damaged pack: they cannot
	// be decoded, so their entries are dropped from the index (Snapshots
	// then counts them as lost).
	BrokenDeltas []pack.ID
	Files        []pack.ID // index files written, the superseding one last
	Removed      []pack.ID // index files and packs removed
	// Locked are old index files and damaged packs left in storage
	// because they are under object lock: the new index names none of
	// them, and a prune after their retention removes them.
	Locked []*backend.LockedError
	DryRun bool // nothing was written
}

// PackRepair is what became of one damaged pack.
type PackRepair struct {
	Pack pack.ID
	Err  error // why it counts as damaged
	// Salvaged is how many of its blobs verified and were copied into new
	// packs.
	Salvaged int
	// Lost are its blobs that did not verify (or whose bytes lie outside
	// the stored file), with whether an intact copy is left elsewhere.
	Lost []LostBlob
}

// LostBlob is a blob of a damaged pack that could not be salvaged.
type LostBlob struct {
	ID   pack.ID
	Type pack.BlobType
	// OtherCopy: another pack, not damaged, holds the blob, so nothing is
	// lost with this copy.
	OtherCopy bool
	Err       error
}

// LostBlobs returns the blobs that no pack holds any longer: what
// Snapshots then cuts out of the snapshots.
func (rep *PacksReport) LostBlobs() []LostBlob {
	var lost []LostBlob
	for _, pr := range rep.Repaired {
		for _, l := range pr.Lost {
			if !l.OtherCopy {
				lost = append(lost, l)
			}
		}
	}
	return lost
}

// Packs repairs damaged packs (docs/design.md, "repair packs"): each blob
// that the index or the pack's header locates and that verifies against
// its ID is copied, still sealed, into new packs; then new index files
// replace every index file that names a damaged pack, without its entries;
// only then are those index files and the damaged packs removed. Tree
// blobs that the packs that are not damaged hold in fewer than
// repo.TreeCopies copies get the copies they lack, also when no pack is
// damaged (docs/design.md, "Tree copies"). A kill at any point leaves an
// index that loads and locates every blob it located before, or a
// salvaged copy of it.
//
// The caller holds the exclusive lock and has loaded r's index; Packs
// refuses to run when an index file is damaged (Index first). It does not
// reload r's in-memory index.
func Packs(ctx context.Context, r *repo.Repository, opts PacksOptions) (*PacksReport, error) {
	if opts.Workers <= 0 {
		opts.Workers = runtime.GOMAXPROCS(0)
	}
	if opts.MaxFileBlobs <= 0 {
		opts.MaxFileBlobs = DefaultMaxFileBlobs
	}
	if opts.Progress == nil {
		opts.Progress = func(string) {}
	}
	rep := &PacksReport{DryRun: opts.DryRun}
	s := &salvager{r: r, opts: opts, rep: rep, idx: r.Index(), salvaged: map[pack.ID]int{}}
	dec, err := pack.NewDecoder(r.Key())
	if err != nil {
		return nil, err
	}
	s.dec = dec
	if s.stored, err = listPacks(ctx, r); err != nil {
		return nil, err
	}
	if err := s.findDamaged(ctx); err != nil {
		return rep, err
	}
	if err := s.gatherEntries(ctx); err != nil {
		return rep, err
	}
	short := s.treesShort()
	if len(rep.Repaired) == 0 && len(short) == 0 {
		return rep, nil
	}
	if !opts.DryRun {
		s.w = r.NewIndexRewriter(opts.MaxFileBlobs)
		s.rp = r.NewRepacker(s.w)
		defer s.rp.Close()
	}
	for i := range rep.Repaired {
		if err := s.salvage(ctx, &rep.Repaired[i]); err != nil {
			return rep, err
		}
	}
	if err := s.copyTrees(ctx, short); err != nil {
		return rep, err
	}
	if err := s.dropBrokenDeltas(ctx); err != nil {
		return rep, err
	}
	if opts.DryRun {
		return rep, nil
	}
	if err := s.rp.Finish(ctx); err != nil {
		return rep, fmt.Errorf("storing the salvaged blobs (nothing was removed): %w", err)
	}
	rep.NewPacks = s.rp.Packs()
	return rep, s.replaceIndex(ctx)
}

// salvager holds the state of one Packs.
type salvager struct {
	r      *repo.Repository
	opts   PacksOptions
	rep    *PacksReport
	idx    *index.Index
	dec    *pack.Decoder
	stored map[pack.ID]int64

	indexed map[pack.ID]bool

	damaged map[pack.ID]bool
	// entries are the index entries of the damaged packs, with the
	// plaintext lengths the index files keep; files the index files in
	// force that name a damaged pack.
	entries map[pack.ID][]pack.Blob
	files   []pack.ID

	// salvaged counts the copies of each blob written to new packs.
	salvaged map[pack.ID]int
	// broken are the delta entries, in packs that stay, whose base is
	// lost; the new index leaves them out.
	broken map[blobInPack]bool

	w  *repo.IndexRewriter
	rp *repo.Repacker
}

// findDamaged decides which packs to repair: those named in the options
// that are damaged, or every indexed pack whose bytes do not hash to its
// name.
func (s *salvager) findDamaged(ctx context.Context) error {
	indexed := s.idx.Packs()
	s.indexed = make(map[pack.ID]bool, len(indexed))
	for _, id := range indexed {
		s.indexed[id] = true
	}
	candidates := slices.Clone(s.opts.Packs)
	if len(candidates) == 0 {
		for _, id := range indexed {
			if _, stored := s.stored[id]; !stored || s.opts.ReadData {
				candidates = append(candidates, id)
			}
		}
	}
	slices.SortFunc(candidates, compareIDs)
	candidates = slices.Compact(candidates)
	if len(candidates) > 0 {
		s.opts.Progress(fmt.Sprintf("reading %d packs", len(candidates)))
	}

	verdicts := make([]error, len(candidates))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(s.opts.Workers)
	for i, id := range candidates {
		g.Go(func() error {
			damage, err := s.packDamage(gctx, id)
			verdicts[i] = damage
			return err
		})
	}
	if err := g.Wait(); err != nil {
		return err
	}
	s.rep.PacksRead = len(candidates)
	s.damaged = map[pack.ID]bool{}
	for i, id := range candidates {
		if verdicts[i] == nil {
			s.rep.Intact = append(s.rep.Intact, id)
			continue
		}
		s.damaged[id] = true
		s.rep.Repaired = append(s.rep.Repaired, PackRepair{Pack: id, Err: verdicts[i]})
	}
	if len(s.opts.Packs) == 0 {
		s.rep.Intact = nil // only named packs are reported as intact
	}
	return nil
}

// packDamage reads pack id whole and returns why it is damaged, or nil.
// A pack that the index names but that is not stored is damaged too.
func (s *salvager) packDamage(ctx context.Context, id pack.ID) (damage, err error) {
	if _, ok := s.stored[id]; !ok {
		if !s.indexed[id] {
			return nil, fmt.Errorf("pack %s is neither stored nor indexed", id)
		}
		return errors.New("the pack is missing from storage"), nil
	}
	data, err := s.load(ctx, id)
	switch {
	case err != nil:
		return nil, err
	case data == nil:
		return errors.New("the pack cannot be read"), nil
	case crypto.FileID(data) != id:
		return errors.New("its bytes do not hash to its name (changed or truncated)"), nil
	}
	return nil, nil
}

// load reads pack id whole: nil data means it cannot be read (damage),
// err that the storage failed.
func (s *salvager) load(ctx context.Context, id pack.ID) ([]byte, error) {
	h := backend.Handle{Type: backend.PackFile, Name: id.String()}
	var end int64
	for _, b := range s.entries[id] {
		end = max(end, int64(b.Offset)+int64(b.Length))
	}
	data, err := backend.LoadAll(ctx, s.r.Backend(), h, pack.MaxSize(end))
	switch {
	case ctx.Err() != nil:
		return nil, ctx.Err()
	case err == nil:
		return data, nil
	case isDamage(err) || errors.Is(err, backend.ErrTooLarge):
		return nil, nil
	}
	return nil, fmt.Errorf("reading pack %v: %w", h, err)
}

// gatherEntries reads the index files in force: the entries of the
// damaged packs, with their plaintext lengths, and which files name them.
func (s *salvager) gatherEntries(ctx context.Context) error {
	s.entries = map[pack.ID][]pack.Blob{}
	for _, id := range s.r.IndexFiles() {
		f, ferr := loadIndexFile(ctx, s.r, id)
		if ferr != nil {
			return fmt.Errorf("%w; run `strata repair index` first", ferr)
		}
		names := false
		for _, p := range f.Packs {
			if s.damaged[p.PackID] {
				names = true
				s.entries[p.PackID] = append(s.entries[p.PackID], p.Blobs...)
			}
		}
		if names {
			s.files = append(s.files, id)
		}
	}
	return nil
}

// salvage copies the blobs of one damaged pack that verify into the new
// packs: those its index entries locate, then those only its header (when
// it opens) lists.
func (s *salvager) salvage(ctx context.Context, pr *PackRepair) error {
	s.opts.Progress(fmt.Sprintf("salvaging the blobs of pack %s", pr.Pack.Short()))
	var data []byte
	if _, ok := s.stored[pr.Pack]; ok {
		var err error
		if data, err = s.load(ctx, pr.Pack); err != nil {
			return err
		}
	}
	candidates := slices.Clone(s.entries[pr.Pack])
	if data != nil {
		if header, err := s.r.ReadPackHeader(ctx, pr.Pack, 0, repo.PackHeaderOptions{Loaded: data}); err == nil {
			candidates = append(candidates, header...)
		}
	}
	done := map[pack.ID]bool{}
	failed := map[pack.ID]LostBlob{}
	for _, b := range candidates {
		if done[b.ID] {
			continue
		}
		sealed, err := s.verify(ctx, pr.Pack, data, b)
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if err != nil {
			if _, seen := failed[b.ID]; !seen {
				failed[b.ID] = LostBlob{ID: b.ID, Type: b.Type, Err: err}
			}
			continue
		}
		done[b.ID] = true
		delete(failed, b.ID)
		pr.Salvaged++
		// A tree keeps repo.TreeCopies copies, counting those in packs
		// that are not damaged; a blob met in two damaged packs is
		// salvaged once.
		want := 1 - s.salvaged[b.ID]
		if b.Type == pack.TreeBlob {
			want = repo.TreeCopies - s.otherCopies(b.ID) - s.salvaged[b.ID]
			s.rep.TreeCopies += max(want-1, 0) // beyond the one that replaces this copy
		}
		if err := s.add(ctx, b, sealed, want); err != nil {
			return fmt.Errorf("storing blob %s of pack %s (nothing was removed): %w", b.ID.Short(), pr.Pack.Short(), err)
		}
	}
	for _, l := range failed {
		l.OtherCopy = s.hasOtherCopy(l.ID)
		pr.Lost = append(pr.Lost, l)
	}
	slices.SortFunc(pr.Lost, func(a, b LostBlob) int { return compareIDs(a.ID, b.ID) })
	return nil
}

// verify decodes blob b from the pack bytes data, as a load would, and
// checks it against its ID. It returns the sealed bytes.
func (s *salvager) verify(ctx context.Context, p pack.ID, data []byte, b pack.Blob) ([]byte, error) {
	end := int64(b.Offset) + int64(b.Length)
	var sealed []byte
	switch {
	case data == nil:
		// Not read whole (missing, unreadable, or larger than a pack can
		// be): the blob's own bytes may still be there.
		var err error
		h := backend.Handle{Type: backend.PackFile, Name: p.String()}
		if sealed, err = s.r.Backend().Load(ctx, h, int64(b.Offset), int64(b.Length)); err != nil {
			return nil, fmt.Errorf("the pack is missing or cannot be read: %w", err)
		}
	case end > int64(len(data)):
		return nil, fmt.Errorf("its bytes %d..%d lie past the end of the %d-byte pack", b.Offset, end, len(data))
	default:
		sealed = data[b.Offset:end]
	}
	var base []byte
	if b.Compression == pack.Delta {
		var err error
		if base, err = s.r.LoadBlob(ctx, b.Base); err != nil {
			return nil, fmt.Errorf("its base %s cannot be loaded: %w", b.Base.Short(), err)
		}
	}
	plain, err := s.dec.Decode(nil, sealed, b, base)
	if err != nil {
		return nil, err
	}
	if s.r.Key().BlobID(plain) != b.ID {
		return nil, errors.New("its plaintext does not match its ID")
	}
	return sealed, nil
}

// hasOtherCopy reports whether a pack that is stored and not damaged
// holds blob id.
func (s *salvager) hasOtherCopy(id pack.ID) bool { return s.otherCopies(id) > 0 }

// otherCopies counts the packs that are stored and not damaged and hold
// blob id.
func (s *salvager) otherCopies(id pack.ID) int {
	n := 0
	for _, loc := range s.idx.LookupAll(id) {
		if _, ok := s.stored[loc.Pack]; ok && !s.damaged[loc.Pack] {
			n++
		}
	}
	return n
}

// add writes n copies of a verified sealed blob into new packs (each in
// a pack of its own), or counts them in a dry run.
func (s *salvager) add(ctx context.Context, b pack.Blob, sealed []byte, n int) error {
	for range n {
		s.salvaged[b.ID]++
		if s.rp == nil {
			continue
		}
		if err := s.rp.Add(ctx, b, sealed); err != nil {
			return err
		}
	}
	return nil
}

// replaceIndex writes the other entries of every index file that names a
// damaged pack into new files, the last of which supersedes those files,
// then removes them and the damaged packs.
func (s *salvager) replaceIndex(ctx context.Context) error {
	s.opts.Progress(fmt.Sprintf("writing the index without the %d damaged packs", len(s.damaged)))
	for _, id := range s.files {
		f, ferr := loadIndexFile(ctx, s.r, id)
		if ferr != nil {
			return fmt.Errorf("%w (nothing was removed)", ferr)
		}
		for _, p := range f.Packs {
			if p = s.withoutBroken(p); s.damaged[p.PackID] || len(p.Blobs) == 0 {
				continue
			}
			if err := s.w.Add(ctx, p); err != nil {
				return fmt.Errorf("writing the new index (nothing was removed): %w", err)
			}
		}
	}
	if err := s.w.Finish(ctx, s.files); err != nil {
		return fmt.Errorf("writing the new index (nothing was removed): %w", err)
	}
	s.rep.Files = s.w.Written()
	for _, id := range s.files {
		if err := s.remove(ctx, backend.IndexFile, id); err != nil {
			return err
		}
	}
	for _, pr := range s.rep.Repaired {
		if _, ok := s.stored[pr.Pack]; !ok {
			continue
		}
		if err := s.remove(ctx, backend.PackFile, pr.Pack); err != nil {
			return err
		}
	}
	return nil
}

func (s *salvager) remove(ctx context.Context, t backend.FileType, id pack.ID) error {
	h := backend.Handle{Type: t, Name: id.String()}
	err := s.r.Backend().Remove(ctx, h)
	if le := (*backend.LockedError)(nil); errors.As(err, &le) {
		s.rep.Locked = append(s.rep.Locked, le)
		return nil
	}
	if err != nil && !errors.Is(err, backend.ErrNotExist) {
		return fmt.Errorf("removing %v (the new index no longer names it; prune removes it): %w", h, err)
	}
	s.rep.Removed = append(s.rep.Removed, id)
	return nil
}

// treesShort returns the tree blobs that packs that are not damaged hold
// in fewer than repo.TreeCopies copies, in order of ID.
func (s *salvager) treesShort() []pack.ID {
	var short []pack.ID
	var prev pack.ID
	first := true
	s.idx.Each(func(id pack.ID, loc index.Location) bool {
		if loc.Type != pack.TreeBlob || (!first && id == prev) {
			return true
		}
		first, prev = false, id
		if s.otherCopies(id) < repo.TreeCopies {
			short = append(short, id)
		}
		return true
	})
	return short
}

// copyTrees writes the copies that the trees in short still lack after
// the salvage, from a copy in a pack that is not damaged. A tree without
// such a copy was either salvaged or is reported lost with its pack.
func (s *salvager) copyTrees(ctx context.Context, short []pack.ID) error {
	if len(short) > 0 {
		s.opts.Progress(fmt.Sprintf("writing the missing copies of up to %d tree blobs", len(short)))
	}
	for _, id := range short {
		need := repo.TreeCopies - s.otherCopies(id) - s.salvaged[id]
		if need <= 0 {
			continue
		}
		b, sealed, err := s.intactCopy(ctx, id)
		if err != nil {
			return err
		}
		if sealed == nil {
			if s.salvaged[id] == 0 && !s.lost(id) {
				s.rep.Uncopied = append(s.rep.Uncopied, id)
			}
			continue
		}
		s.rep.TreeCopies += need
		if err := s.add(ctx, b, sealed, need); err != nil {
			return fmt.Errorf("storing a copy of tree blob %s (nothing was removed): %w", id.Short(), err)
		}
	}
	return nil
}

// lost reports whether a repaired pack reports blob id lost, with no
// other copy.
func (s *salvager) lost(id pack.ID) bool {
	for _, pr := range s.rep.Repaired {
		for _, l := range pr.Lost {
			if l.ID == id && !l.OtherCopy {
				return true
			}
		}
	}
	return false
}

// intactCopy reads the sealed bytes of a copy of blob id, from a pack
// that is stored and not damaged, that verifies against its ID; nil when
// none does. Only a failure to reach the storage is an error.
func (s *salvager) intactCopy(ctx context.Context, id pack.ID) (pack.Blob, []byte, error) {
	for _, loc := range s.idx.LookupAll(id) {
		if _, ok := s.stored[loc.Pack]; !ok || s.damaged[loc.Pack] {
			continue
		}
		plain, err := s.r.LoadBlobCopy(ctx, id, loc)
		if err == nil {
			h := backend.Handle{Type: backend.PackFile, Name: loc.Pack.String()}
			var sealed []byte
			sealed, err = s.r.Backend().Load(ctx, h, int64(loc.Offset), int64(loc.Length))
			if err == nil {
				b := pack.Blob{Type: loc.Type, Compression: loc.Compression, ID: id, Base: loc.Base, RawLength: uint32(len(plain))}
				return b, sealed, nil
			}
		}
		if ctx.Err() != nil {
			return pack.Blob{}, nil, ctx.Err()
		}
		if !isDamage(err) {
			return pack.Blob{}, nil, err
		}
	}
	return pack.Blob{}, nil, nil
}
