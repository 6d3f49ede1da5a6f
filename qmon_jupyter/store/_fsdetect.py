"""Which filesystem a path is on, and whether SQLite's WAL mode can work there.

WAL keeps its index in shared memory (the ``-shm`` file mapped by every
process), which needs every process on the same host and a filesystem with
working ``mmap`` and locks. NFS, SMB, FUSE and 9p homes, common on
JupyterHub, do not give that; the rollback journal works on them as well as
SQLite works there at all.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

__all__ = ["MOUNT_TABLE", "Mount", "is_network_fstype", "mount_of", "network_mount"]

#: the kernel's mount table for this process (Linux); elsewhere psutil is asked
MOUNT_TABLE = Path("/proc/self/mountinfo")

#: filesystems whose files other hosts or a user-space daemon serve
_NETWORK_FSTYPES = frozenset(
    {
        "nfs",
        "nfs4",
        "cifs",
        "smb3",
        "smbfs",
        "9p",
        "afs",
        "ceph",
        "glusterfs",
        "lustre",
        "gpfs",
        "beegfs",
        "ncpfs",
        "davfs",
        "fuse",  # a FUSE mount whose subtype the kernel does not report
    }
)


@dataclass(frozen=True)
class Mount:
    """One entry of the mount table: where it is mounted and its filesystem type."""

    mount_point: str
    fstype: str


def is_network_fstype(fstype: str) -> bool:
    """Whether ``fstype`` (as the mount table spells it) is a network or FUSE filesystem.

    ``fuseblk`` (a local disk through FUSE, e.g. NTFS) is not: it is one host's block
    device and WAL works there.
    """
    kind = fstype.lower()
    return kind in _NETWORK_FSTYPES or (kind.startswith("fuse.") and kind != "fuse.fuseblk")


def _unescape(field: str) -> str:
    r"""Undo the kernel's octal escapes in mount points (``\040`` is a space)."""
    if "\\" not in field:
        return field
    out, i = [], 0
    while i < len(field):
        octal = field[i + 1 : i + 4]
        if field[i] == "\\" and len(octal) == 3 and all(c in "01234567" for c in octal):
            out.append(chr(int(octal, 8)))
            i += 4
        else:
            out.append(field[i])
            i += 1
    return "".join(out)


def parse_mount_table(text: str) -> list[Mount]:
    """Read ``/proc/self/mountinfo`` or ``/proc/mounts`` text, in the table's order.

    ``mountinfo`` lines are ``id parent dev root MOUNT_POINT opts [tags] - FSTYPE src
    ...``; ``mounts`` lines are ``src MOUNT_POINT FSTYPE opts 0 0``. Lines of neither
    shape are ignored.
    """
    mounts = []
    for line in text.splitlines():
        fields = line.split()
        if "-" in fields[6:]:
            dash = fields.index("-", 6)
            if dash + 1 < len(fields):
                mounts.append(Mount(_unescape(fields[4]), fields[dash + 1]))
        elif len(fields) >= 3:
            mounts.append(Mount(_unescape(fields[1]), fields[2]))
    return mounts


def _existing(path: Path) -> Path:
    """Return the path, or its nearest existing ancestor, with symlinks resolved."""
    path = Path(os.path.abspath(path))  # noqa: PTH100 - no symlink resolution yet: may not exist
    while not path.exists() and path != path.parent:
        path = path.parent
    return path.resolve()


def _read_mounts(mount_table: Path | None) -> list[Mount]:
    table = MOUNT_TABLE if mount_table is None else Path(mount_table)
    try:
        return parse_mount_table(table.read_text(encoding="utf-8", errors="replace"))
    except OSError:
        if mount_table is not None:
            raise
    try:  # not Linux (or no /proc): psutil knows the platform's way
        import psutil

        return [Mount(p.mountpoint, p.fstype) for p in psutil.disk_partitions(all=True)]
    except Exception:
        return []


def mount_of(path: str | os.PathLike[str], mount_table: Path | None = None) -> Mount | None:
    """Return the mount that holds ``path``: the longest mount point that contains it.

    Parameters
    ----------
    path
        A file or folder; one that does not exist yet is on its nearest existing
        ancestor's filesystem.
    mount_table
        A file in ``mountinfo`` or ``mounts`` format; default :data:`MOUNT_TABLE`
        (psutil where there is no ``/proc``). An explicit file that cannot be read
        raises ``OSError``.

    Returns
    -------
    Mount or None
        None when no mount table could be read. Of two mounts on the same point,
        the later (the one on top) wins.
    """
    target = _existing(Path(path))
    best: Mount | None = None
    best_depth = -1
    for mount in _read_mounts(mount_table):
        point = Path(mount.mount_point)
        if target != point and point not in target.parents:
            continue
        depth = len(point.parts)
        if depth >= best_depth:
            best, best_depth = mount, depth
    return best


def network_mount(path: str | os.PathLike[str], mount_table: Path | None = None) -> Mount | None:
    """Return the mount holding ``path`` if it is a network or FUSE filesystem, else None."""
    mount = mount_of(path, mount_table)
    return mount if mount is not None and is_network_fstype(mount.fstype) else None
