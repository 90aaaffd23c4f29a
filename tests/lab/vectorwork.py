"""Work whose result is wrong if a kernel loses vector registers between tasks.

The lab's UML kernel saves and restores each guest task's FPU state
(x87, SSE, AVX, AVX-512) through ptrace on every context switch, through the
xstate shim on hosts with AMX (tests/lab/xstate.c). OpenSSL's SHA-256 and
SHA-512 (SHA-NI, AVX2 or AVX-512 where the CPU has them), zlib and glibc's
memcpy keep their working state in those registers, so a round of them over
large buffers, run in many tasks at once, gives the digests below only if
every switch kept the state whole.

DIGESTS were computed on the host, where no UML is involved; the unit tier
checks they still hold there (tests/unit/test_vectorwork.py), the kernel tier
that they hold inside the lab under load (tests/kernel/test_vector_state.py).

    python3 -m tests.lab.vectorwork ROUNDS THREADS

prints one JSON list of every round's digests from THREADS threads.
"""

from __future__ import annotations

import hashlib
import json
import random
import sys
import threading
import zlib

BUFFER_BYTES = 2 * 1024 * 1024

# Digests of one round over buffer(), computed on the host.
DIGESTS = {
    "sha256": "f9cf212b3cbff0015d8a4afc4ce5d8deb16b52a1799a69069dd8532a48b61304",
    "sha512": (
        "eb721e43d75af074d9f6fc00508a37f42dd864e4b633ffa98da2cb381c643d8b"
        "78ca249677fc4560d38f31cd13e2b4522ad7df5aca7bf5f75a70a7f9667de02f"
    ),
    "crc32": "0b395073",
    "adler32": "d4502140",
    "deflate-sha256": "f805c10f929db97a1e3101d1e94f68c6cf68439941f15db715b1525915a3703d",
}


def buffer() -> bytes:
    """Half random (incompressible), half a pattern (compressible): every zlib path runs."""
    noise = random.Random(20261201).randbytes(BUFFER_BYTES // 2)
    pattern = (b"bondd keeps bonds the way you wrote them down. " * 50_000)[: BUFFER_BYTES // 2]
    return noise + pattern


def one_round(data: bytes) -> dict[str, str]:
    return {
        "sha256": hashlib.sha256(data).hexdigest(),
        "sha512": hashlib.sha512(data).hexdigest(),
        "crc32": f"{zlib.crc32(data):08x}",
        "adler32": f"{zlib.adler32(data):08x}",
        "deflate-sha256": hashlib.sha256(zlib.compress(data, 6)).hexdigest(),
    }


def run(rounds: int, threads: int) -> list[dict[str, str]]:
    """Every round of every thread; the threads run at once (hashlib and zlib drop the GIL)."""
    data = buffer()
    results: list[dict[str, str]] = []
    lock = threading.Lock()

    def work() -> None:
        # A private copy per round, so memcpy's vector path runs in each task too.
        for _ in range(rounds):
            digests = one_round(bytes(bytearray(data)))
            with lock:
                results.append(digests)

    workers = [threading.Thread(target=work) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return results


if __name__ == "__main__":
    print(json.dumps(run(int(sys.argv[1]), int(sys.argv[2]))))
