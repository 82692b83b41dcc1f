#!/usr/bin/env python3
"""Which of a running server's machine code is in memory, by crate.

    python3 bench/resident.py PID [BINARY]

Reads /proc/PID/maps and /proc/PID/pagemap (root, or the same user with CAP_SYS_ADMIN, sees the
present bit) for the binary's executable mapping, and `nm` for its symbols, then charges every
resident 4 KB page of code to the crates whose functions lie on it (shared pages split by bytes).
The bench runs it on each server after the load when BENCH_KEEP is set (resident-node<N>.txt).
"""

import collections
import os
import re
import struct
import subprocess
import sys

PAGE = os.sysconf("SC_PAGE_SIZE")
PREFIXES = ("core::ptr::drop_in_place<", "core::ptr::drop_in_place::<")


def crate_of(name):
    """The crate a (demangled) function belongs to: for generic glue, the type's crate."""
    for prefix in PREFIXES:
        if name.startswith(prefix):
            name = name[len(prefix):]
    match = re.match(r"[<&\s(]*(?:mut |dyn )*([A-Za-z_][A-Za-z0-9_]*)::", name)
    if match:
        return match.group(1)
    return "C (SQLite, ring, libc glue)" if "::" not in name else "other"


def code_mapping(pid, binary):
    """(start, end, file offset) of the binary's executable mapping."""
    real = os.path.realpath(binary)
    with open(f"/proc/{pid}/maps") as maps:
        for line in maps:
            fields = line.split()
            if len(fields) >= 6 and "x" in fields[1] and os.path.realpath(fields[5]) == real:
                start, end = (int(x, 16) for x in fields[0].split("-"))
                return start, end, int(fields[2], 16)
    raise RuntimeError("no executable mapping of the binary")


def resident_pages(pid, start, end):
    """Virtual page numbers in [start, end) that are present in memory."""
    present = set()
    with open(f"/proc/{pid}/pagemap", "rb") as pagemap:
        pagemap.seek(start // PAGE * 8)
        data = pagemap.read((end - start) // PAGE * 8)
    for n in range(len(data) // 8):
        (entry,) = struct.unpack_from("<Q", data, n * 8)
        if entry >> 63:
            present.add(start // PAGE + n)
    return present


def load_bias(binary, start, offset):
    """What to add to a symbol's address to get where it is mapped (PIE: the load address)."""
    headers = subprocess.run(["readelf", "-lW", binary], capture_output=True, text=True, check=True).stdout
    for line in headers.splitlines():
        fields = line.split()
        if fields and fields[0] == "LOAD" and re.search(r"\sR?W?\s?E\s", line):
            file_offset, vaddr = int(fields[1], 16), int(fields[2], 16)
            return start - offset + file_offset - vaddr
    raise RuntimeError("no executable segment")


def functions(binary, demangle=False):
    """(address in the file, size, name) of each function in the binary, from `nm`."""
    command = ["nm", "-S", "-t", "d"] + (["--demangle=rust"] if demangle else []) + [binary]
    symbols = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    for line in symbols.splitlines():
        fields = line.split(None, 3)
        if len(fields) == 4 and fields[2] in ("t", "T"):
            yield int(fields[0]), int(fields[1]), fields[3]


def report(pid, binary):
    start, end, offset = code_mapping(pid, binary)
    present = resident_pages(pid, start, end)
    bias = load_bias(binary, start, offset)
    by_crate = collections.Counter()
    total = collections.Counter()
    for address, size, name in functions(binary, demangle=True):
        address += bias
        crate = crate_of(name)
        total[crate] += size
        page = address // PAGE
        while page * PAGE < address + size:
            if page in present:
                low, high = max(address, page * PAGE), min(address + size, (page + 1) * PAGE)
                by_crate[crate] += high - low
            page += 1
    lines = [f"{len(present) * PAGE / 1e6:.1f} MB of {(end - start) / 1e6:.1f} MB of code resident"]
    lines.append(f"{'resident MB':>12} {'of MB':>7}  crate")
    for crate, size in by_crate.most_common(40):
        lines.append(f"{size / 1e6:12.2f} {total[crate] / 1e6:7.2f}  {crate}")
    return "\n".join(lines)


if __name__ == "__main__":
    pid = int(sys.argv[1])
    binary = sys.argv[2] if len(sys.argv) > 2 else os.readlink(f"/proc/{pid}/exe")
    print(report(pid, binary))
