"""The store on network filesystems: detected from the mount table, rollback journal there."""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import warnings
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from qmon_jupyter.store import Store, StoreWarning, _fsdetect
from qmon_jupyter.store._fsdetect import Mount, is_network_fstype, mount_of, network_mount

if TYPE_CHECKING:
    from collections.abc import Iterator

PROC_MOUNTINFO = Path("/proc/self/mountinfo")


def _mountinfo_line(mount_id: int, point: Path | str, fstype: str, source: str = "srv") -> str:
    """One line as the kernel writes it (spaces in the mount point escaped as \\040)."""
    escaped = str(point).replace(" ", "\\040")
    opts = f"rw,relatime shared:{mount_id}"
    return f"{mount_id} 1 0:{mount_id} / {escaped} {opts} - {fstype} {source} rw"


@pytest.fixture
def jupyterhub(tmp_path) -> tuple[Path, Path]:
    """A JupyterHub-like layout: NFS homes, an SMB share inside one, local disk elsewhere."""
    for sub in ("home/jovyan/shared/team", "home/jovyan/.local", "homework", "scratch"):
        (tmp_path / sub).mkdir(parents=True)
    table = tmp_path / "mountinfo"
    table.write_text(
        "\n".join(
            [
                _mountinfo_line(21, "/", "overlay", "overlay"),
                _mountinfo_line(22, tmp_path / "home", "nfs4", "nfs.example:/export/home"),
                _mountinfo_line(23, tmp_path / "home/jovyan/shared", "cifs", "//smb/share"),
                _mountinfo_line(24, tmp_path / "scratch", "ext4", "/dev/sdb1"),
            ]
        )
        + "\n"
    )
    return tmp_path, table


@pytest.mark.parametrize(
    ("fstype", "network"),
    [
        ("nfs", True),
        ("nfs4", True),
        ("cifs", True),
        ("smb3", True),
        ("smbfs", True),
        ("9p", True),
        ("fuse", True),
        ("fuse.sshfs", True),
        ("fuse.gcsfuse", True),
        ("ext4", False),
        ("xfs", False),
        ("overlay", False),
        ("tmpfs", False),
        ("fuseblk", False),
    ],
)
def test_network_and_fuse_filesystem_types_are_recognised(fstype, network):
    assert is_network_fstype(fstype) is network


def test_a_folder_under_an_nfs_home_is_on_nfs(jupyterhub):
    root, table = jupyterhub
    assert mount_of(root / "home/jovyan/.local", table) == Mount(str(root / "home"), "nfs4")
    assert network_mount(root / "home/jovyan/.local", table).fstype == "nfs4"


def test_the_longest_mount_point_wins(jupyterhub):
    root, table = jupyterhub
    assert mount_of(root / "home/jovyan/shared/team", table).fstype == "cifs"


def test_a_mount_point_matches_whole_path_components_only(jupyterhub):
    root, table = jupyterhub
    # "homework" starts with "home" but is not under it
    assert mount_of(root / "homework", table).fstype == "overlay"
    assert network_mount(root / "homework", table) is None
    assert network_mount(root / "scratch", table) is None


def test_a_store_file_not_yet_created_is_judged_by_its_nearest_existing_folder(jupyterhub):
    root, table = jupyterhub
    assert network_mount(root / "home/jovyan/.local/share/jupyter/qmon/qmon.sqlite", table)


def test_escaped_mount_points_and_the_mounts_format_are_read(tmp_path):
    spaced = tmp_path / "My Drive"
    spaced.mkdir()
    table = tmp_path / "mounts"
    # /proc/mounts format: source, mount point, type, options
    escaped = str(spaced).replace(" ", "\\040")
    table.write_text(f"rootfs / ext4 rw 0 0\nsrv:/x {escaped} nfs rw 0 0\n")
    assert mount_of(spaced, table) == Mount(str(spaced), "nfs")


def test_the_later_of_two_mounts_on_one_point_wins(tmp_path):
    table = tmp_path / "mountinfo"
    table.write_text(
        _mountinfo_line(1, "/", "ext4")
        + "\n"
        + _mountinfo_line(2, tmp_path, "nfs")
        + "\n"
        + _mountinfo_line(3, tmp_path, "tmpfs")
        + "\n"
    )
    assert mount_of(tmp_path, table).fstype == "tmpfs"


def test_an_explicit_mount_table_that_cannot_be_read_is_an_error(tmp_path):
    with pytest.raises(OSError, match="no-such-table"):
        mount_of(tmp_path, tmp_path / "no-such-table")


@pytest.mark.skipif(not PROC_MOUNTINFO.is_file(), reason="no /proc/self/mountinfo (not Linux)")
def test_this_machines_temporary_folder_is_found_on_a_local_filesystem(tmp_path):
    mount = mount_of(tmp_path, PROC_MOUNTINFO)
    assert mount is not None
    assert Path(mount.mount_point) in [tmp_path.resolve(), *tmp_path.resolve().parents]
    # the same device as the folder itself: the entry really is the one holding it
    assert os.stat(mount.mount_point).st_dev == os.stat(tmp_path).st_dev  # noqa: PTH116
    if is_network_fstype(mount.fstype):
        pytest.skip(f"this machine's temporary folder is on {mount.fstype}")
    assert network_mount(tmp_path) is None


def _journal_mode(path: Path) -> str:
    conn = sqlite3.connect(path)
    try:
        return conn.execute("PRAGMA journal_mode").fetchone()[0]
    finally:
        conn.close()


@pytest.fixture
def on_nfs(tmp_path, monkeypatch) -> Path:
    """Make the mount table say that tmp_path is an NFS mount; return the store path."""
    table = tmp_path / "mountinfo"
    table.write_text(_mountinfo_line(1, "/", "ext4") + "\n" + _mountinfo_line(2, tmp_path, "nfs4"))
    monkeypatch.setattr(_fsdetect, "MOUNT_TABLE", table)
    monkeypatch.delenv("QMON_JOURNAL_MODE", raising=False)
    return tmp_path / "qmon" / "qmon.sqlite"


def test_a_store_on_nfs_uses_the_rollback_journal_and_warns(on_nfs):
    with pytest.warns(StoreWarning, match=r"nfs4 filesystem.*journal_mode=DELETE"):
        store = Store(on_nfs)

    assert store.journal_mode == "delete"
    assert store._conn().execute("PRAGMA journal_mode").fetchone()[0] == "delete"
    store.write_batch("kernel-a", jobs=[{"id": "j", "status": "running", "type": "simulation"}])
    assert store.get_job("j")["status"] == "running"
    assert not Path(f"{on_nfs}-wal").exists()
    store.close()
    assert _journal_mode(on_nfs) == "delete"


def test_the_network_warning_is_given_once_per_store(on_nfs):
    with pytest.warns(StoreWarning):
        Store(on_nfs).close()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        again = Store(on_nfs)
    assert again.journal_mode == "delete"
    again.close()


def test_a_wal_store_moved_onto_nfs_leaves_wal_mode(on_nfs, monkeypatch, tmp_path):
    monkeypatch.setattr(_fsdetect, "MOUNT_TABLE", tmp_path / "mountinfo-local")
    (tmp_path / "mountinfo-local").write_text(_mountinfo_line(1, "/", "ext4"))
    Store(on_nfs).close()
    assert _journal_mode(on_nfs) == "wal"

    monkeypatch.setattr(_fsdetect, "MOUNT_TABLE", tmp_path / "mountinfo")
    with pytest.warns(StoreWarning, match="nfs4"):
        Store(on_nfs).close()
    assert _journal_mode(on_nfs) == "delete"


def test_a_store_on_a_local_disk_uses_wal(tmp_path, monkeypatch):
    monkeypatch.delenv("QMON_JOURNAL_MODE", raising=False)
    if network_mount(tmp_path) is not None:
        pytest.skip("this machine's temporary folder is on a network filesystem")
    store = Store(tmp_path / "qmon.sqlite")
    assert store.journal_mode == "wal"
    assert store._conn().execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    store.close()


def test_qmon_journal_mode_overrides_the_detection(on_nfs, monkeypatch):
    monkeypatch.setenv("QMON_JOURNAL_MODE", "wal")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        store = Store(on_nfs)
    assert store._conn().execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    store.close()


def test_an_unknown_journal_mode_is_a_clear_error(tmp_path, monkeypatch):
    monkeypatch.setenv("QMON_JOURNAL_MODE", "truncate-everything")
    with pytest.raises(
        ValueError, match=r"'truncate-everything'.*QMON_JOURNAL_MODE.*auto, wal, delete"
    ):
        Store(tmp_path / "qmon.sqlite")


def _can_mount_fuse() -> str | None:
    """Why a real FUSE mount cannot be made here, or None if it can."""
    if os.geteuid() != 0:
        return "mounting needs root"
    if shutil.which("bindfs") is None:
        return "bindfs is not installed (apt-get install bindfs)"
    if not Path("/dev/fuse").exists():
        return "no /dev/fuse"
    return None


@pytest.fixture
def fuse_dir(tmp_path) -> Iterator[Path]:
    """A real FUSE mount (bindfs of a temporary folder), unmounted afterwards."""
    reason = _can_mount_fuse()
    if reason:
        pytest.skip(reason)
    source, target = tmp_path / "source", tmp_path / "fuse"
    source.mkdir()
    target.mkdir()
    proc = subprocess.run(
        ["bindfs", str(source), str(target)], capture_output=True, text=True, check=False
    )
    if proc.returncode != 0:
        pytest.skip(f"bindfs could not mount here: {proc.stderr.strip()}")
    try:
        yield target
    finally:
        subprocess.run(["fusermount", "-u", str(target)], capture_output=True, check=False)
        if os.path.ismount(target):
            subprocess.run(["umount", "-l", str(target)], capture_output=True, check=False)


def test_a_real_fuse_mount_is_detected_and_its_store_uses_the_rollback_journal(
    fuse_dir, monkeypatch
):
    monkeypatch.delenv("QMON_JOURNAL_MODE", raising=False)
    mount = network_mount(fuse_dir / "qmon.sqlite")
    assert mount is not None
    assert mount.mount_point == str(fuse_dir)
    assert mount.fstype.startswith("fuse")

    with pytest.warns(StoreWarning, match="fuse"):
        store = Store(fuse_dir / "qmon.sqlite")
    store.write_batch("kernel-a", jobs=[{"id": "j", "status": "running", "type": "simulation"}])
    assert store._conn().execute("PRAGMA journal_mode").fetchone()[0] == "delete"
    store.close()
