"""Wake the loop when a configuration directory changes.

watchdog's observer thread only writes one byte into the loop's self-pipe;
the loop debounces and re-reads everything, so editor temp files, atomic
renames and Kubernetes ConfigMap `..data` symlink swaps all end the same way:
one read of the directory once it is quiet.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Sequence
from pathlib import Path

from watchdog.events import FileSystemEvent, FileSystemEventHandler
from watchdog.observers import Observer

# Newer watchdog releases also report opens and read-only closes (inotify
# IN_OPEN, IN_CLOSE_NOWRITE); only changes matter.
_READS = frozenset({"opened", "closed_no_write"})


class _Poke(FileSystemEventHandler):
    def __init__(self, fd: int) -> None:
        self.fd = fd

    def on_any_event(self, event: FileSystemEvent) -> None:
        if event.event_type in _READS:
            return  # our own reads of the files; reacting would loop forever
        # A full pipe means the loop has plenty of wake-ups queued already.
        with contextlib.suppress(BlockingIOError):
            os.write(self.fd, b"c")


class ConfigWatcher:
    def __init__(self, dirs: Sequence[Path], fd: int) -> None:
        self.observer = Observer()
        handler = _Poke(fd)
        self.watched: list[Path] = []
        for directory in dirs:
            # A directory that does not exist yet is watched through its parent.
            target = directory if directory.is_dir() else directory.parent
            if target.is_dir() and target not in self.watched:
                self.observer.schedule(handler, str(target), recursive=False)
                self.watched.append(target)

    def start(self) -> None:
        self.observer.daemon = True
        self.observer.start()

    def stop(self) -> None:
        self.observer.stop()
        self.observer.join(timeout=2)
