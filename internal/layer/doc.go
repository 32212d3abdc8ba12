// Package layer handles overlayfs layers as plain directory trees: it
// copies a live writable layer consistently (CopyConsistent), archives a
// layer as a content-addressable tar stream (Archive), unpacks one
// (Extract), and flattens a stack of layers into one (Merge).
//
// A layer is a directory in overlayfs's own upper-dir format:
//
//   - a deleted path is a whiteout: a character device 0:0;
//   - a directory that hides everything below it carries the xattr
//     trusted.overlay.opaque ("y");
//   - everything else (files, directories, symlinks, devices, fifos) is
//     itself, with its mode, owner, mtime and extended attributes.
//
// The archive format is a POSIX (PAX) tar stream of exactly that: entries
// in lexical order, parents before children, no entry for the root;
// whiteouts are character-device entries 0:0; extended attributes ride in
// SCHILY.xattr.NAME records (binary values as they are); mtimes keep
// nanoseconds; owners are numeric ids only; hard links within the layer
// are link entries naming the first path of the inode. Overlayfs's
// bookkeeping xattrs (trusted.overlay.* other than opaque, such as origin
// and impure) describe one mount's upper dir and are not kept. Sockets are
// not kept either: they mean nothing once their process is gone.
//
// Extract accepts only streams of that shape: relative names without "..",
// each parent a directory entry that came before, no name twice, and hard
// links only to regular files already extracted, so an archive cannot
// write outside its directory or through a symlink.
package layer
