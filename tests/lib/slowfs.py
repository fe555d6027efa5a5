#!/usr/bin/python3
"""A slow disk: a FUSE passthrough of a directory whose fsync takes DELAY_MS (this VM has no
device mapper, so no dm-delay). Everything else goes straight to the backing directory; the
data really is written there, and fsync really is fsync'd there, DELAY_MS after it was asked.

usage: slowfs.py BACKING_DIR MOUNTPOINT DELAY_MS
  Runs in the foreground until unmounted (umount MOUNTPOINT) or killed; needs root and
  /dev/fuse (python3-fusepy, libfuse2). Prints "mounted" on stdout once it serves.
  While BACKING_DIR/.fail-fsync exists, every fsync fails with EIO (a failing disk).
"""
import errno
import os
import sys
import threading
import time

from fusepy import FUSE, FuseOSError, Operations


class SlowSync(Operations):
    def __init__(self, root, delay):
        self.root = root
        self.delay = delay

    def _p(self, path):
        return os.path.join(self.root, path.lstrip("/"))

    def getattr(self, path, fh=None):
        try:
            st = os.lstat(self._p(path))
        except OSError as e:
            raise FuseOSError(e.errno)
        return {k: getattr(st, k) for k in ("st_mode", "st_nlink", "st_size", "st_uid",
                                            "st_gid", "st_atime", "st_mtime", "st_ctime")}

    def readdir(self, path, fh):
        return [".", ".."] + os.listdir(self._p(path))

    def statfs(self, path):
        st = os.statvfs(self._p(path))
        return {k: getattr(st, k) for k in ("f_bsize", "f_frsize", "f_blocks", "f_bfree",
                                            "f_bavail", "f_files", "f_ffree", "f_namemax")}

    def _call(self, fn, *args):
        try:
            return fn(*args)
        except OSError as e:
            raise FuseOSError(e.errno)

    def open(self, path, flags):
        return self._call(os.open, self._p(path), flags)

    def create(self, path, mode, fi=None):
        return self._call(os.open, self._p(path), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)

    def read(self, path, size, offset, fh):
        return self._call(os.pread, fh, size, offset)

    def write(self, path, data, offset, fh):
        # O_APPEND reaches us as writes at the end: the kernel passes the offset
        return self._call(os.pwrite, fh, data, offset)

    def truncate(self, path, length, fh=None):
        if fh is not None:
            return self._call(os.ftruncate, fh, length)
        return self._call(os.truncate, self._p(path), length)

    def fsync(self, path, datasync, fh):
        time.sleep(self.delay)
        if os.path.exists(os.path.join(self.root, ".fail-fsync")):
            raise FuseOSError(errno.EIO)
        return self._call(os.fsync, fh)

    def flush(self, path, fh):
        return 0

    def release(self, path, fh):
        return self._call(os.close, fh)

    def rename(self, old, new):
        return self._call(os.rename, self._p(old), self._p(new))

    def unlink(self, path):
        return self._call(os.unlink, self._p(path))

    def chmod(self, path, mode):
        return self._call(os.chmod, self._p(path), mode)

    def chown(self, path, uid, gid):
        return self._call(os.chown, self._p(path), uid, gid)

    def utimens(self, path, times=None):
        return self._call(os.utime, self._p(path), times)

    def mkdir(self, path, mode):
        return self._call(os.mkdir, self._p(path), mode)


def main():
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    root, mnt, delay = sys.argv[1], sys.argv[2], int(sys.argv[3]) / 1000.0

    def announce():
        # serving once the mountpoint is a different filesystem than its parent
        for _ in range(200):
            if os.path.ismount(mnt):
                print("mounted", flush=True)
                return
            time.sleep(0.05)
    threading.Thread(target=announce, daemon=True).start()
    # direct_io: every write reaches us in order, no kernel write-back in between
    FUSE(SlowSync(os.path.abspath(root), delay), mnt, foreground=True, nothreads=False,
         direct_io=True)


if __name__ == "__main__":
    main()
