package mount

import "github.com/hanwen/go-fuse/v2/fuse"

// noOpendir serves folders without OPENDIR and RELEASEDIR: it answers
// the kernel's first OPENDIR with ENOSYS, after which Linux sends none
// (no_opendir, kernel 5.1 and later) and READDIR (or READDIRPLUS) comes
// with handle 0. Each such READDIR opens the folder inside the mount,
// reads from the offset asked and releases it, without a round trip
// through the kernel. A cold `ls -R` of 720 snapshots costs about
// 26,000 folders of five round trips each (LOOKUP, OPENDIR, two READDIR,
// RELEASEDIR); this makes them three, and READDIRPLUS, which answers
// the LOOKUP of each subfolder (dirHandle.Lookup), two
// (docs/design.md, "Mount"; docs/benchmarks.md).
// The kernel then keeps every folder's listing in its page cache, as
// FOPEN_CACHE_DIR did for a snapshot's folders, until the folder's
// mtime changes (seen when its attributes expire): a view's mtime is
// when the listing of snapshots last changed, so new snapshots show and
// forgotten ones go within --refresh.
// A kernel that does not offer it (before 5.1: it would fail every
// opendir with ENOSYS) gets OPENDIR answered as before.
type noOpendir struct {
	fuse.RawFileSystem
	server *fuse.Server // set before it serves
}

func (f *noOpendir) OpenDir(cancel <-chan struct{}, in *fuse.OpenIn, out *fuse.OpenOut) fuse.Status {
	if f.server.KernelSettings().Flags64()&fuse.CAP_NO_OPENDIR_SUPPORT == 0 {
		return f.RawFileSystem.OpenDir(cancel, in, out)
	}
	return fuse.ENOSYS
}

func (f *noOpendir) ReadDir(cancel <-chan struct{}, in *fuse.ReadIn, out *fuse.DirEntryList) fuse.Status {
	return f.readDir(cancel, in, out, f.RawFileSystem.ReadDir)
}

func (f *noOpendir) ReadDirPlus(cancel <-chan struct{}, in *fuse.ReadIn, out *fuse.DirEntryList) fuse.Status {
	return f.readDir(cancel, in, out, f.RawFileSystem.ReadDirPlus)
}

// readDir serves a READDIR or READDIRPLUS (read) without a handle by
// opening the folder for it alone.
func (f *noOpendir) readDir(cancel <-chan struct{}, in *fuse.ReadIn, out *fuse.DirEntryList,
	read func(<-chan struct{}, *fuse.ReadIn, *fuse.DirEntryList) fuse.Status) fuse.Status {
	if in.Fh != 0 {
		return read(cancel, in, out)
	}
	var opened fuse.OpenOut
	if st := f.RawFileSystem.OpenDir(cancel, &fuse.OpenIn{InHeader: in.InHeader}, &opened); !st.Ok() {
		return st
	}
	r := *in
	r.Fh = opened.Fh
	st := read(cancel, &r, out)
	f.RawFileSystem.ReleaseDir(&fuse.ReleaseIn{InHeader: in.InHeader, Fh: opened.Fh})
	return st
}

func (f *noOpendir) ReleaseDir(in *fuse.ReleaseIn) {
	if in.Fh != 0 {
		f.RawFileSystem.ReleaseDir(in)
	}
}
