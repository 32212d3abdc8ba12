"""Directory trees as tar streams: made from a local directory, unpacked safely into one.

``iter_tar`` streams a tar of a local directory's contents (entry names
relative to it, the directory itself as ``./``), reading each file only as
its bytes are needed, so a tree of any size is never held in memory.

``extract`` unpacks a tar stream from a box into a local directory. The
stream is untrusted, so every entry must stay inside the destination:

* names that are absolute or have a ``..`` part are refused;
* no entry is written through a symlink: every directory on the way to an
  entry must be a real directory below the destination (a symlink in the
  way is refused), and a symlink or file already where an entry goes is
  replaced, never followed;
* hard links may only point at files extracted earlier from the same stream;
* device nodes and FIFOs are refused; setuid and setgid bits are dropped.

Symlinks are made as they are (their targets are not checked: a link is
only text until something follows it, and extraction never does).
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import os
import stat
import tarfile
from collections.abc import AsyncIterator, Generator, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, TYPE_CHECKING

if TYPE_CHECKING:
    from _typeshed import WriteableBuffer

from ._errors import HoglandError
from ._generated.models import ArchiveInfo

TAR_CHUNK = 1 << 20
BLOCK = tarfile.BLOCKSIZE
# Bits a downloaded file never gets: the box's content is untrusted.
DROPPED_MODE_BITS = stat.S_ISUID | stat.S_ISGID


class ArchiveError(HoglandError):
    """A tar stream that cannot be made or unpacked safely."""


def _header(info: tarfile.TarInfo) -> bytes:
    return info.tobuf(tarfile.PAX_FORMAT, "utf-8", "surrogateescape")


def _info(name: str, st: os.stat_result, kind: bytes) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type = kind
    info.mode = stat.S_IMODE(st.st_mode)
    info.mtime = int(st.st_mtime)
    # Owners are not applied on either side; numeric zeros keep headers plain.
    info.uid = info.gid = 0
    info.uname = info.gname = ""
    return info


def iter_tar(local_dir: str | os.PathLike[str], *, chunk_size: int = TAR_CHUNK) -> Generator[bytes]:
    """A tar of local_dir's contents, in chunks of about chunk_size bytes.

    Entries: the directory itself as ``./`` (its mode), then every entry
    below it, parents first, in name order. Regular files, directories and
    symlinks (stored as links, never followed) keep their modes and mtimes;
    files hard-linked within the tree stay hard links; sockets, FIFOs and
    devices are left out.
    """
    root = Path(local_dir)
    if not root.is_dir():
        raise NotADirectoryError(f"{root} is not a directory")
    return _tar_chunks(root, chunk_size)


def aiter_tar(
    local_dir: str | os.PathLike[str], *, chunk_size: int = TAR_CHUNK
) -> AsyncIterator[bytes]:
    """iter_tar for the event loop: the files are read in a worker thread."""
    return _in_thread(iter_tar(local_dir, chunk_size=chunk_size))


async def _in_thread(chunks: Generator[bytes]) -> AsyncIterator[bytes]:
    def pull() -> bytes | None:
        return next(chunks, None)

    try:
        while (chunk := await asyncio.to_thread(pull)) is not None:
            yield chunk
    finally:
        chunks.close()


def _tar_chunks(root: Path, chunk_size: int) -> Generator[bytes]:
    buf = bytearray()
    seen: dict[tuple[int, int], str] = {}

    def entries(directory: Path, prefix: str) -> Iterator[tuple[Path, str, os.stat_result]]:
        with os.scandir(directory) as it:
            names = sorted(it, key=lambda e: e.name)
        for entry in names:
            st = entry.stat(follow_symlinks=False)
            name = prefix + entry.name
            yield Path(entry.path), name, st
            if stat.S_ISDIR(st.st_mode):
                yield from entries(Path(entry.path), name + "/")

    buf += _header(_info(".", root.stat(), tarfile.DIRTYPE))
    for path, name, st in entries(root, ""):
        mode = st.st_mode
        if stat.S_ISDIR(mode):
            buf += _header(_info(name, st, tarfile.DIRTYPE))
        elif stat.S_ISLNK(mode):
            info = _info(name, st, tarfile.SYMTYPE)
            info.linkname = os.readlink(path)
            buf += _header(info)
        elif stat.S_ISREG(mode):
            key = (st.st_dev, st.st_ino)
            if st.st_nlink > 1 and key in seen:
                info = _info(name, st, tarfile.LNKTYPE)
                info.linkname = seen[key]
                buf += _header(info)
                continue
            seen[key] = name
            info = _info(name, st, tarfile.REGTYPE)
            info.size = st.st_size
            buf += _header(info)
            left = st.st_size
            with path.open("rb") as f:
                while left > 0:
                    if len(buf) >= chunk_size:
                        yield bytes(buf)
                        buf.clear()
                    data = f.read(min(chunk_size, left))
                    if not data:
                        raise ArchiveError(f"{path} shrank while it was being archived")
                    buf += data
                    left -= len(data)
            buf += b"\0" * (-st.st_size % BLOCK)
        else:
            continue  # sockets, FIFOs, devices: left out
        if len(buf) >= chunk_size:
            yield bytes(buf)
            buf.clear()
    buf += b"\0" * (2 * BLOCK)
    yield bytes(buf)


class ChunkReader(io.RawIOBase):
    """A readable file over an iterator of byte chunks (for tarfile's stream mode)."""

    def __init__(self, chunks: Iterable[bytes]) -> None:
        self._chunks = iter(chunks)
        self._pending = b""

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: WriteableBuffer, /) -> int:
        while not self._pending:
            try:
                self._pending = next(self._chunks)
            except StopIteration:
                return 0
        view = memoryview(buffer).cast("B")
        n = min(len(view), len(self._pending))
        view[:n] = self._pending[:n]
        self._pending = self._pending[n:]
        return n


def reader(chunks: Iterable[bytes]) -> IO[bytes]:
    return io.BufferedReader(ChunkReader(chunks), buffer_size=TAR_CHUNK)


@dataclass
class _Extraction:
    dest: Path
    remote: str
    root: list[str] | None = None
    files: set[tuple[str, ...]] = field(default_factory=set)
    dirs: list[tuple[Path, int, float]] = field(default_factory=list)
    info: ArchiveInfo = field(
        default_factory=lambda: ArchiveInfo(path="", files=0, dirs=0, symlinks=0, bytes=0)
    )

    def refuse(self, name: str, why: str) -> ArchiveError:
        return ArchiveError(f"refused tar entry {name!r} from {self.remote}: {why}")

    def relative(self, name: str) -> tuple[str, ...]:
        """The entry's path below the archive's first entry, as parts."""
        if not name or "\0" in name:
            raise self.refuse(name, "bad name")
        if name.startswith("/"):
            raise self.refuse(name, "absolute name")
        parts = [p for p in name.split("/") if p not in ("", ".")]
        if ".." in parts:
            raise self.refuse(name, "a '..' part would leave the destination")
        if self.root is None:
            self.root = parts
            return ()
        if parts[: len(self.root)] != self.root:
            raise self.refuse(name, f"outside the archive's root {'/'.join(self.root) or '.'}")
        return tuple(parts[len(self.root) :])

    def parent(self, name: str, rel: tuple[str, ...]) -> Path:
        """The entry's directory, every step a real directory (made if missing)."""
        here = self.dest
        for part in rel[:-1]:
            here = here / part
            try:
                st = os.lstat(here)
            except FileNotFoundError:
                os.mkdir(here, 0o755)
                continue
            if stat.S_ISLNK(st.st_mode):
                raise self.refuse(name, f"{here} is a symlink; extraction never writes through one")
            if not stat.S_ISDIR(st.st_mode):
                raise self.refuse(name, f"{here} is not a directory")
        return here

    def make_way(self, name: str, target: Path) -> None:
        """Remove a non-directory at target; a directory there is refused."""
        try:
            st = os.lstat(target)
        except FileNotFoundError:
            return
        if stat.S_ISDIR(st.st_mode):
            raise self.refuse(
                name, f"{target} is a directory; an entry that is not one cannot replace it"
            )
        os.unlink(target)

    def entry(self, member: tarfile.TarInfo, tar: tarfile.TarFile) -> None:
        rel = self.relative(member.name)
        mode = stat.S_IMODE(member.mode) & ~DROPPED_MODE_BITS
        if not rel:
            if not member.isdir():
                raise ArchiveError(
                    f"{self.remote} is not a directory in the box; use download() for a file"
                )
            self.dirs.append((self.dest, mode, member.mtime))
            self.info.dirs += 1
            return
        target = self.parent(member.name, rel) / rel[-1]
        # Whatever was at rel is replaced: only a regular file written below
        # may be the source of a later hard link.
        self.files.discard(rel)
        if member.isdir():
            try:
                st = os.lstat(target)
            except FileNotFoundError:
                st = None
            if st is None or not stat.S_ISDIR(st.st_mode):
                if st is not None:
                    os.unlink(target)  # a file or symlink in the way: replaced, never followed
                os.mkdir(target, 0o700)
            self.dirs.append((target, mode, member.mtime))
            self.info.dirs += 1
        elif member.isreg():
            self.make_way(member.name, target)
            source = tar.extractfile(member)
            assert source is not None
            fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
            with os.fdopen(fd, "wb") as out:
                while data := source.read(TAR_CHUNK):
                    out.write(data)
                    self.info.bytes += len(data)
                os.fchmod(out.fileno(), mode)
            os.utime(target, (member.mtime, member.mtime), follow_symlinks=False)
            self.files.add(rel)
            self.info.files += 1
        elif member.issym():
            if not member.linkname or "\0" in member.linkname:
                raise self.refuse(member.name, "symlink with a bad target")
            self.make_way(member.name, target)
            os.symlink(member.linkname, target)
            with contextlib.suppress(NotImplementedError, OSError):
                os.utime(target, (member.mtime, member.mtime), follow_symlinks=False)
            self.info.symlinks += 1
        elif member.islnk():
            source_rel = self.relative(member.linkname)
            if source_rel not in self.files:
                raise self.refuse(member.name, "a hard link to something not extracted before it")
            self.make_way(member.name, target)
            os.link(self.dest.joinpath(*source_rel), target, follow_symlinks=False)
            self.info.files += 1
        else:
            raise self.refuse(member.name, "device nodes and FIFOs are not extracted")

    def finish(self) -> None:
        """Directory modes and mtimes, deepest first, once nothing more goes into them."""
        for path, mode, mtime in reversed(self.dirs):
            os.chmod(path, mode)
            os.utime(path, (mtime, mtime))


def extract(source: IO[bytes], local_dir: str | os.PathLike[str], *, remote: str) -> ArchiveInfo:
    """Unpack the tar stream of a box's archive of ``remote`` into local_dir.

    The archive's first entry (``remote`` itself) becomes local_dir, which is
    made if missing; everything below it lands below local_dir. See the
    module's docstring for what is refused.
    """
    dest = Path(local_dir)
    dest.mkdir(parents=True, exist_ok=True)
    x = _Extraction(dest=dest, remote=remote)
    x.info.path = str(dest)
    try:
        with tarfile.open(fileobj=source, mode="r|") as tar:
            for member in tar:
                x.entry(member, tar)
    except tarfile.TarError as exc:
        raise ArchiveError(f"bad tar stream from {remote}: {exc}") from exc
    if x.root is None:
        raise ArchiveError(f"empty tar stream from {remote}")
    x.finish()
    return x.info
